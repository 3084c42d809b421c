import type { Tensor4D } from '../../core/index.js';

/**
 * Rows of `[N, H, W, C]` images in [0, 1] -> one RGB picture, N columns, 2 px white gaps, each
 * pixel magnified `scale` times. Portable: Node writes it as a PNG (`writeGrid`), the browser
 * playground draws it on a canvas. The rows are read back asynchronously, as every backend allows.
 */
export async function gridPixels(rows: Tensor4D[], scale: number): Promise<{ width: number; height: number; rgb: Uint8Array }> {
  const [n, h, w] = rows[0].shape;
  const gap = 2;
  const W = n * (w * scale + gap) + gap;
  const H = rows.length * (h * scale + gap) + gap;
  const rgb = new Uint8Array(W * H * 3).fill(255);
  const values = await Promise.all(rows.map((t) => t.data()));
  rows.forEach((t, r) => {
    const c = t.shape[3];
    const v = values[r];
    for (let b = 0; b < n; b++)
      for (let y = 0; y < h * scale; y++)
        for (let x = 0; x < w * scale; x++) {
          const src = ((b * h + Math.floor(y / scale)) * w + Math.floor(x / scale)) * c;
          const dst = ((gap + r * (h * scale + gap) + y) * W + gap + b * (w * scale + gap) + x) * 3;
          for (let k = 0; k < 3; k++) rgb[dst + k] = Math.round(255 * Math.min(1, Math.max(0, v[src + (c === 3 ? k : 0)])));
        }
  });
  return { width: W, height: H, rgb };
}

/** `count` image indices spread evenly over a set of `size` (a folder sorted by class gives every class, not the first one's images) */
export function spreadIndices(size: number, count: number): Int32Array {
  const n = Math.min(count, size);
  return Int32Array.from({ length: n }, (_, i) => Math.floor((i * size) / n));
}
