/** Shared helpers of the benchmark scripts (never part of `npm test`). */
import fs from 'node:fs';
import path from 'node:path';
import { Rng, gatherImages, normalizeImages, tf, type Callback, type PluginRegistry, type RunParts } from '../cli/api.js';
import progress from '../plugins/callbacks/progress.js';

export const log = (m: string) => process.stderr.write(`${m}\n`);

/** The first existing directory among candidates (a --data flag first). */
export function findDir(candidates: Array<string | undefined>, what: string): string {
  for (const c of candidates) if (c && fs.existsSync(c)) return path.resolve(c);
  throw new Error(`${what} not found; pass --data DIR (tried ${candidates.filter(Boolean).join(', ')})`);
}

export async function progressBar(): Promise<Callback> {
  return (await progress.create({ every: 25 }, { seed: 0, rng: Rng.fromSeed(0), path: '', registry: undefined as unknown as PluginRegistry, log })) as Callback;
}

/**
 * Batch-norm statistics for an untrained encoder: one training-mode pass over the training set
 * (running averages with momentum 0.1 over all batches), as the random-weights baseline of
 * shared/bench/accuracy does before freezing.
 */
export function calibrateBatchNorm(parts: RunParts, batchSize = 500): void {
  const { train } = parts.data;
  for (let s = 0; s < train.count; s += batchSize) {
    const idx = Int32Array.from({ length: Math.min(batchSize, train.count - s) }, (_, i) => s + i);
    tf.tidy(() => {
      parts.encoder.forward(normalizeImages(gatherImages(train, parts.info, idx), parts.info), true);
    });
  }
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
