/** Shared helpers of the benchmark scripts (never part of `npm test`). */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export const log = (m: string) => process.stderr.write(`${m}\n`);

/** A wrong flag or flag value: the sentence on stderr and exit 2, never a stack trace. */
export function refuse(message: string): never {
  log(message);
  process.exit(2);
}

type Flags = NonNullable<ParseArgsConfig['options']>;
/** The values parseArgs gives for `F`. */
type ParsedFlags<F extends Flags> = ReturnType<typeof parseArgs<{ options: F }>>['values'];

/** A flag's place in the usage line: `[--name DEFAULT]`, `[--name NAME]` without a default, `[--name]` for a switch. */
const usageOf = (name: string, flag: Flags[string]) => {
  if (flag.type === 'boolean') return `[--${name}]`;
  const d = flag.default;
  const shown = d === undefined || (Array.isArray(d) && d.length === 0) ? name.toUpperCase() : String(d);
  return `[--${name} ${shown}]${flag.multiple ? '...' : ''}`;
};

/**
 * A bench's flags (node:util parseArgs of `flags`): `--help` prints the usage line made from them
 * and exits 0; an unknown flag or a missing value prints the reason and that line and exits 2,
 * instead of parseArgs' stack trace.
 */
export function benchArgs<const F extends Flags>(flags: F): ParsedFlags<F> {
  const usage = `usage: node ${path.relative(process.cwd(), process.argv[1] ?? 'bench.js')} ${Object.entries(flags)
    .map(([name, flag]) => usageOf(name, flag))
    .join(' ')}`;
  if (process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  try {
    return parseArgs({ options: flags }).values;
  } catch (e) {
    refuse(`${(e as Error).message}\n${usage}`);
  }
}

/** The first existing directory among candidates (a --data flag first). */
export function findDir(candidates: Array<string | undefined>, what: string): string {
  for (const c of candidates) if (c && fs.existsSync(c)) return path.resolve(c);
  throw new Error(`${what} not found; pass --data DIR (tried ${candidates.filter(Boolean).join(', ')})`);
}

/** CIFAR-10 in the image-folder layout: extracts `cifar10-jpeg.tar.gz` into .bench/ once; returns its root. */
export function ensureCifar(tar?: string): string {
  const archive = findDir([tar, '../shared/datasets/cifar10-jpeg.tar.gz'], 'cifar10-jpeg.tar.gz');
  const root = path.resolve('.bench/cifar10-jpeg');
  if (!fs.existsSync(path.join(root, 'train'))) {
    log(`extracting ${archive} into .bench/ ...`);
    fs.mkdirSync('.bench', { recursive: true });
    execFileSync('tar', ['-xzf', archive, '-C', '.bench']);
  }
  return root;
}

export { pct } from '../cli/api.js';
