import { tf, type Tensor4D } from '../engine/tf.js';
import type { Batch, DatasetInfo, ImageSet, ImageSource } from '../contracts/data.js';
import { DataError } from '../errors.js';

/**
 * Gather images `indices` of an in-memory set into a float `[B, H, W, C]` tensor in [0, 1]. A set
 * read on demand (`set.source`) throws here: use `readImages`.
 */
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

/** uint8 rows `[n, H, W, C]` (as `readPixels` gives) -> a float tensor in [0, 1]. */
export function pixelsToTensor(pixels: Uint8Array, info: DatasetInfo, n: number): Tensor4D {
  const out = new Float32Array(pixels.length);
  for (let j = 0; j < pixels.length; j++) out[j] = pixels[j] / 255;
  return tf.tensor4d(out, [n, info.height, info.width, info.channels]);
}

/** The uint8 pixels of images `indices` of a set, in memory or read on demand: `[B, H, W, C]` row-major, a new array. */
export async function readPixels(set: ImageSet, info: DatasetInfo, indices: ArrayLike<number>): Promise<Uint8Array> {
  const px = info.height * info.width * info.channels;
  if (set.source) {
    const out = await set.source.read(indices);
    if (out.length !== indices.length * px)
      throw new DataError(`an image source gave ${out.length} bytes for ${indices.length} images of ${info.height}x${info.width}x${info.channels}`);
    return out;
  }
  const out = new Uint8Array(indices.length * px);
  for (let i = 0; i < indices.length; i++) out.set(set.images.subarray(indices[i] * px, (indices[i] + 1) * px), i * px);
  return out;
}

/** `gatherImages` for any set: read on demand when the set has a source. The caller disposes the tensor. */
export async function readImages(set: ImageSet, info: DatasetInfo, indices: ArrayLike<number>): Promise<Tensor4D> {
  if (!set.source) return gatherImages(set, info, indices);
  return pixelsToTensor(await readPixels(set, info, indices), info, indices.length);
}

/** One training batch: images, dataset indices and labels of `indices` (an in-memory set; `BatchQueue` reads any set). */
export function makeBatch(set: ImageSet, info: DatasetInfo, indices: Int32Array): Batch {
  return { x: gatherImages(set, info, indices), index: indices, labels: labelsOf(set, indices) };
}

/** A batch from pixels already read (`readPixels`). */
export function makeBatchFrom(set: ImageSet, info: DatasetInfo, indices: Int32Array, pixels: Uint8Array): Batch {
  return { x: pixelsToTensor(pixels, info, indices.length), index: indices, labels: labelsOf(set, indices) };
}

function labelsOf(set: ImageSet, indices: ArrayLike<number>): Int32Array {
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) labels[i] = set.labels[indices[i]];
  return labels;
}

/**
 * A set whose pixels are read on demand from `source`. Its `images` throws a DataError that says
 * to read through `readImages` (code written for in-memory sets fails loudly, not with garbage).
 */
export function streamingImageSet(source: ImageSource, labels: Int32Array, count = labels.length): ImageSet {
  const set = { labels, count, source } as ImageSet;
  Object.defineProperty(set, 'images', {
    enumerable: false,
    get() {
      throw new DataError(
        'this image set is read on demand (a dataset with cache: "none"): it has no images array; read its pixels with readImages/readPixels(set, info, indices)',
      );
    },
  });
  return set;
}

/** `(x - mean) / std` per channel: what encoders see. */
export function normalizeImages(x: Tensor4D, info: DatasetInfo): Tensor4D {
  return tf.div(tf.sub(x, info.mean), info.std) as Tensor4D;
}

/** Keep the first `limit` images of a set (a view, no copy). */
export function limitSet(set: ImageSet, info: DatasetInfo, limit?: number): ImageSet {
  if (limit === undefined || limit >= set.count) return set;
  if (set.source) {
    const limited = streamingImageSet(set.source, set.labels.subarray(0, limit), limit);
    if (set.paths) limited.paths = set.paths.slice(0, limit);
    return limited;
  }
  const px = info.height * info.width * info.channels;
  return { images: set.images.subarray(0, limit * px), labels: set.labels.subarray(0, limit), count: limit, paths: set.paths?.slice(0, limit) };
}

/** Per-channel mean and std of uint8 images (in [0, 1] units). */
export function channelStats(images: Uint8Array, channels: number): { mean: number[]; std: number[] } {
  return new ChannelStats(channels).add(images).result();
}

/** `channelStats` accumulated over chunks of images (a sample read batch by batch): the same sums. */
export class ChannelStats {
  private readonly sum: Float64Array;
  private readonly sq: Float64Array;
  private values = 0;

  constructor(private readonly channels: number) {
    this.sum = new Float64Array(channels);
    this.sq = new Float64Array(channels);
  }

  add(images: Uint8Array): this {
    const { sum, sq, channels } = this;
    for (let i = 0; i < images.length; i++) {
      const v = images[i] / 255;
      sum[i % channels] += v;
      sq[i % channels] += v * v;
    }
    this.values += images.length;
    return this;
  }

  result(): { mean: number[]; std: number[] } {
    const n = this.values / this.channels;
    const mean = [...this.sum].map((s) => s / n);
    const std = [...this.sq].map((s, c) => Math.sqrt(Math.max(s / n - mean[c] * mean[c], 1e-12)));
    return { mean, std };
  }
}
