/** Shared helpers of the benchmark scripts (never part of `npm test`). */
import fs from 'node:fs';
import path from 'node:path';

export const log = (m: string) => process.stderr.write(`${m}\n`);

/** The first existing directory among candidates (a --data flag first). */
export function findDir(candidates: Array<string | undefined>, what: string): string {
  for (const c of candidates) if (c && fs.existsSync(c)) return path.resolve(c);
  throw new Error(`${what} not found; pass --data DIR (tried ${candidates.filter(Boolean).join(', ')})`);
}

/** Markdown table. */
export function markdownTable(header: string[], rows: Array<Array<string | number>>): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export const pct = (v: number | undefined) => (v === undefined ? '-' : `${(100 * v).toFixed(2)}%`);

/** Median of numbers. */
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
