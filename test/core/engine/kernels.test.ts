import { beforeAll, describe, expect, it } from 'vitest';
import { createRegistry } from '../../../cli/api.js';
import { maxAbs, maxAbsDiff, randn, tf, useBackend } from '../../helpers.js';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

/** conv2d forward and both gradients (input, filter) for dy = fixed random. */
function convGrads(backend: string, xs: number[], fs: number[], stride: number, pad: Pad, seed: number) {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(randn(xs, seed), xs as [number, number, number, number]);
    const f = tf.tensor4d(randn(fs, seed + 1), fs as [number, number, number, number]);
    const y = tf.conv2d(x, f, stride, pad as never);
    const dy = tf.tensor(randn(y.shape, seed + 2), y.shape);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad as never))([x, f], dy);
    return { y: y.dataSync().slice(), dx: g[0].dataSync().slice(), dw: g[1].dataSync().slice() };
  });
}

// [x shape, filter shape, stride, padding]: the encoders' cases (3x3 s1/s2 pad 1, 1x1 s2) and awkward ones
const CASES: Array<[number[], number[], number, Pad]> = [
  [
    [2, 28, 28, 1],
    [3, 3, 1, 8],
    1,
    [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
  ],
  [
    [2, 28, 28, 8],
    [3, 3, 8, 16],
    2,
    [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
  ],
  [
    [2, 14, 14, 16],
    [3, 3, 16, 8],
    2,
    [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
  ],
  [
    [3, 8, 8, 16],
    [1, 1, 16, 32],
    2,
    [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ],
  ],
  [[2, 9, 11, 5], [3, 3, 5, 7], 2, 'same'],
  [[2, 9, 11, 5], [3, 3, 5, 7], 2, 'valid'],
  [[1, 10, 7, 3], [5, 5, 3, 4], 3, 'same'],
  [[2, 7, 7, 4], [3, 2, 4, 6], 1, 'valid'],
  [[1, 12, 12, 2], [4, 4, 2, 3], 2, 'same'],
];

describe('wasm training kernels vs the cpu backend', () => {
  beforeAll(async () => {
    const registry = createRegistry();
    await useBackend('cpu', registry);
    await useBackend('wasm', registry);
  });

  it('registers Conv2DBackpropFilter (absent in stock wasm) and replaces Conv2DBackpropInput: the SIMD ones (simd-kernels.test.ts also tests the composite fallbacks)', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc.name).toBe('simdConv2DBackpropFilter');
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc.name).toBe('simdConv2DBackpropInput');
  });

  it.each(CASES.map((c, i) => [i, ...c] as const))('case %i: x %j, filter %j, stride %i, pad %j', (i, xs, fs, s, pad) => {
    const ref = convGrads('cpu', xs, fs, s, pad, 10 * i);
    const got = convGrads('wasm', xs, fs, s, pad, 10 * i);
    expect(got.dw.length).toBe(ref.dw.length);
    expect(got.dx.length).toBe(ref.dx.length);
    // relative to the gradient's scale: float32 sums over up to 28*28*2 terms
    expect(maxAbsDiff(got.dw, ref.dw) / maxAbs(ref.dw)).toBeLessThan(1e-5);
    expect(maxAbsDiff(got.dx, ref.dx) / maxAbs(ref.dx)).toBeLessThan(1e-5);
    expect(maxAbs(ref.dw)).toBeGreaterThan(0);
  });

  it('gradient check: the filter gradient matches a finite difference of the loss on wasm', () => {
    tf.setBackend('wasm');
    const xs = [2, 6, 6, 3];
    const fs = [3, 3, 3, 4];
    const x = tf.tensor4d(randn(xs, 1), xs as [number, number, number, number]);
    const f0 = randn(fs, 2);
    const loss = (fv: Float32Array) =>
      tf.tidy(() => tf.sum(tf.square(tf.conv2d(x, tf.tensor4d(fv, fs as [number, number, number, number]), 2, 'same'))).dataSync()[0]);
    const g = tf.tidy(() =>
      tf
        .grad((f: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, f as tf.Tensor4D, 2, 'same'))))(tf.tensor4d(f0, fs as [number, number, number, number]))
        .dataSync()
        .slice(),
    );
    for (const idx of [0, 17, 53, 107]) {
      const eps = 1e-2;
      const p = f0.slice();
      const m = f0.slice();
      p[idx] += eps;
      m[idx] -= eps;
      const fd = (loss(p) - loss(m)) / (2 * eps);
      expect(Math.abs(fd - g[idx])).toBeLessThan(2e-2 * Math.max(1, Math.abs(g[idx])));
    }
    x.dispose();
  });

  it('Identity shares data: clones read the same values, outlive their source, and free the memory once all are disposed', () => {
    tf.setBackend('wasm');
    expect(tf.getKernel('Identity', 'wasm')?.kernelFunc.name).toBe('sharedIdentity');
    const before = tf.memory().numDataBuffers;
    const x = tf.tensor2d(randn([64, 32], 5), [64, 32]);
    const y = tf.clone(x);
    const z = tf.clone(y);
    // no copy was made: one data buffer for the three tensors
    expect(tf.memory().numDataBuffers - before).toBe(1);
    expect(maxAbsDiff(z.dataSync(), x.dataSync())).toBe(0);
    x.dispose();
    y.dispose();
    expect(z.dataSync()[7]).toBe(randn([64, 32], 5)[7]);
    z.dispose();
    expect(tf.memory().numDataBuffers).toBe(before);
    // a gradient through clones (the tape clones the inputs of Mul and Sub) equals the one on cpu
    const grad = (b: string) => {
      tf.setBackend(b);
      return tf.tidy(() =>
        tf
          .grad((a: tf.Tensor) => tf.sum(tf.mul(tf.sub(a, 0.5), tf.clone(a))))(tf.tensor1d([1, -2, 3]))
          .dataSync()
          .slice(),
      );
    };
    expect(Array.from(grad('wasm'))).toEqual(Array.from(grad('cpu')));
  });
});
