import fs from 'node:fs';
import path from 'node:path';
import type { Tensor4D } from '../../core/index.js';

/** Rows of `[N, H, W, C]` images in [0, 1] -> one PNG, N columns, 2 px gaps, magnified. */
export async function writeGrid(rows: Tensor4D[], scale: number, file: string): Promise<void> {
  const [n, h, w] = rows[0].shape;
  const gap = 2;
  const W = n * (w * scale + gap) + gap;
  const H = rows.length * (h * scale + gap) + gap;
  const buf = Buffer.alloc(W * H * 3, 255);
  rows.forEach((t, r) => {
    const c = t.shape[3];
    const v = t.dataSync();
    for (let b = 0; b < n; b++)
      for (let y = 0; y < h * scale; y++)
        for (let x = 0; x < w * scale; x++) {
          const src = ((b * h + Math.floor(y / scale)) * w + Math.floor(x / scale)) * c;
          const dst = ((gap + r * (h * scale + gap) + y) * W + gap + b * (w * scale + gap) + x) * 3;
          for (let k = 0; k < 3; k++) buf[dst + k] = Math.round(255 * Math.min(1, Math.max(0, v[src + (c === 3 ? k : 0)])));
        }
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const { default: sharp } = await import('sharp'); // at use, not at import (selfsup's import loads no native addon)
  await sharp(buf, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toFile(file);
}

/** `count` image indices spread evenly over a set of `size` (a folder sorted by class gives every class, not the first one's images) */
export function spreadIndices(size: number, count: number): Int32Array {
  const n = Math.min(count, size);
  return Int32Array.from({ length: n }, (_, i) => Math.floor((i * size) / n));
}
