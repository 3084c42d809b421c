import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level (arrays keep their order): equal configs, equal text. */
export function canonicalJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonicalJson).join(',')}]`;
  if (x !== null && typeof x === 'object') {
    const keys = Object.keys(x)
      .filter((k) => (x as Record<string, unknown>)[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((x as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(x) ?? 'null';
}

/** Keys that name or describe a run without changing what it computes. */
const COSMETIC = new Set(['name', 'description', 'notes', '$schema']);

/**
 * A trial's identity: SHA-256 (16 hex digits) of the resolved config in canonical form, without its
 * cosmetic keys. Key order does not matter; any changed value (a seed, a temperature) does.
 */
export function configHash(config: object): string {
  const keep = Object.fromEntries(Object.entries(config).filter(([k]) => !COSMETIC.has(k)));
  return createHash('sha256').update(canonicalJson(keep)).digest('hex').slice(0, 16);
}
