/** Shared helpers of the benchmark scripts (never part of `npm test`). */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const log = (m: string) => process.stderr.write(`${m}\n`);

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
