import { tf, type Tensor, type Tensor4D } from '../engine/tf.js';
import type { Rng } from '../rng.js';

/** One value per sample as a `[B, 1, 1, 1]` tensor, for broadcasting over `[B, H, W, C]` images. */
export function perSample(values: Float32Array): Tensor4D {
  return tf.tensor4d(values, [values.length, 1, 1, 1]);
}

/** Per-sample choice: where `apply[b]` is 1 take `a[b]`, else `b[b]` (both `[B, H, W, C]`). */
export function selectPerSample(apply: Float32Array, a: Tensor, b: Tensor): Tensor4D {
  const m = perSample(apply);
  return tf.add(tf.mul(a, m), tf.mul(b, tf.sub(1, m))) as Tensor4D;
}

/** `n` Bernoulli(p) draws as 0/1 floats. */
export function coinFlips(rng: Rng, n: number, p: number): Float32Array {
  return rng.fill(n, (r) => (r.bernoulli(p) ? 1 : 0));
}

/** ITU-R BT.601 luma of `[B, H, W, 3]` -> `[B, H, W, 1]` (torchvision's rgb_to_grayscale weights). */
export function luma(x: Tensor4D): Tensor4D {
  if (x.shape[3] === 1) return x;
  return tf.sum(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), 3, true) as Tensor4D;
}
