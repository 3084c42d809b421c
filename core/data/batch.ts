import { tf, type Tensor4D } from '../engine/tf.js';
import type { Batch, DatasetInfo, ImageSet } from '../contracts/data.js';

/** Gather images `indices` of a set into a float `[B, H, W, C]` tensor in [0, 1]. */
export function gatherImages(set: ImageSet, info: DatasetInfo, indices: ArrayLike<number>): Tensor4D {
  const { height: h, width: w, channels: c } = info;
  const px = h * w * c;
  const out = new Float32Array(indices.length * px);
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i] * px;
    const row = set.images.subarray(src, src + px);
    const dst = i * px;
    for (let j = 0; j < px; j++) out[dst + j] = row[j] / 255;
  }
  return tf.tensor4d(out, [indices.length, h, w, c]);
}

/** One training batch: images, dataset indices and labels of `indices`. */
export function makeBatch(set: ImageSet, info: DatasetInfo, indices: Int32Array): Batch {
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) labels[i] = set.labels[indices[i]];
  return { x: gatherImages(set, info, indices), index: indices, labels };
}

/** `(x - mean) / std` per channel: what encoders see. */
export function normalizeImages(x: Tensor4D, info: DatasetInfo): Tensor4D {
  return tf.div(tf.sub(x, info.mean), info.std) as Tensor4D;
}

/** Keep the first `limit` images of a set (a view, no copy). */
export function limitSet(set: ImageSet, info: DatasetInfo, limit?: number): ImageSet {
  if (limit === undefined || limit >= set.count) return set;
  const px = info.height * info.width * info.channels;
  return { images: set.images.subarray(0, limit * px), labels: set.labels.subarray(0, limit), count: limit };
}

/** Per-channel mean and std of uint8 images (in [0, 1] units). */
export function channelStats(images: Uint8Array, channels: number): { mean: number[]; std: number[] } {
  const sum = new Float64Array(channels);
  const sq = new Float64Array(channels);
  for (let i = 0; i < images.length; i++) {
    const v = images[i] / 255;
    sum[i % channels] += v;
    sq[i % channels] += v * v;
  }
  const n = images.length / channels;
  const mean = [...sum].map((s) => s / n);
  const std = [...sq].map((s, c) => Math.sqrt(Math.max(s / n - mean[c] * mean[c], 1e-12)));
  return { mean, std };
}
