import { Rng, tf } from '../../../cli/api.js';
import { maxAbs, maxAbsDiff, randn } from '../../helpers.js';

/** Shared by the kernel parity tests (simd-kernels, native-kernels): seeded convolution cases and their gradients. */
export type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
export interface ConvCase {
  xs: [number, number, number, number];
  fs: [number, number, number, number];
  stride: [number, number];
  pad: Pad;
}

/** seeded random conv cases: odd sizes, channel counts that leave SIMD remainders, strides 1-3, all paddings */
export function randomConvCases(n: number, seed: number): ConvCase[] {
  const r = Rng.fromSeed(seed, 'cases');
  const int = (lo: number, hi: number) => lo + Math.floor(r.uniform() * (hi - lo + 1));
  return Array.from({ length: n }, () => {
    const kh = int(1, 5),
      kw = int(1, 4);
    const h = int(kh, 17),
      w = int(kw, 15);
    const kind = int(0, 2);
    const pad: Pad =
      kind === 0
        ? 'same'
        : kind === 1
          ? 'valid'
          : [
              [0, 0],
              [int(0, kh - 1), int(0, kh - 1)],
              [int(0, kw - 1), int(0, kw - 1)],
              [0, 0],
            ];
    return { xs: [int(1, 4), h, w, int(1, 21)], fs: [kh, kw, 0, int(1, 19)], stride: [int(1, 3), int(1, 3)], pad } as ConvCase;
  }).map((c) => ({ ...c, fs: [c.fs[0], c.fs[1], c.xs[3], c.fs[3]] }));
}

/** convolutions over many positions (one block boundary after another), as the first layers of a small CNN and a stride-2 stage */
export const MANY_POSITIONS: ConvCase[] = [
  { xs: [6, 28, 28, 3], fs: [3, 3, 3, 16], stride: [1, 1], pad: 'same' },
  {
    xs: [5, 14, 14, 32],
    fs: [3, 3, 32, 64],
    stride: [2, 2],
    pad: [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
  },
];

/** the input and filter gradients of a convolution for a fixed random dy */
export function convGrads(backend: string, c: ConvCase, seed: number): { dx: Float32Array; dw: Float32Array } {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(randn(c.xs, seed), c.xs);
    const f = tf.tensor4d(randn(c.fs, seed + 1), c.fs);
    const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad as never);
    const dy = tf.tensor(randn(conv(x, f).shape, seed + 2), conv(x, f).shape);
    const [dx, dw] = tf.grads(conv)([x, f], dy);
    return { dx: dx.dataSync().slice() as Float32Array, dw: dw.dataSync().slice() as Float32Array };
  });
}

/** the largest absolute difference relative to the reference's largest magnitude */
export const relErr = (got: ArrayLike<number>, ref: ArrayLike<number>) => maxAbsDiff(got, ref) / maxAbs(ref);
