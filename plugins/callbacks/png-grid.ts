import fs from 'node:fs';
import path from 'node:path';
import type { Tensor4D } from '../../core/index.js';
import { gridPixels } from './grid-pixels.js';

export { spreadIndices } from './grid-pixels.js';

/** Rows of `[N, H, W, C]` images in [0, 1] -> one PNG, N columns, 2 px gaps, magnified (see `gridPixels`). */
export async function writeGrid(rows: Tensor4D[], scale: number, file: string): Promise<void> {
  const { width, height, rgb } = await gridPixels(rows, scale);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const { default: sharp } = await import('sharp'); // at use, not at import (selfsup's import loads no native addon)
  await sharp(rgb, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(file);
}
