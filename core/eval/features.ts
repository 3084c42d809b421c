import { tf } from '../engine/tf.js';
import type { DatasetInfo, ImageSet } from '../contracts/data.js';
import type { FeatureSet } from '../contracts/evaluator.js';
import type { Branch } from '../contracts/modules.js';
import type { Tensor, Tensor4D } from '../engine/tf.js';
import { gatherImages, normalizeImages, pixelsToTensor, readPixels } from '../data/batch.js';
import { runBranch } from '../train/branch.js';

/**
 * Frozen features of a labelled set: eval mode (batch-norm running statistics), un-augmented,
 * normalised images (through `view`, the task's `Augmenter.evalView`, when it has one); `h` is the
 * encoder's pooled output, `z` the head's output on it.
 */
export async function extractFeatures(
  branch: Branch,
  set: ImageSet,
  info: DatasetInfo,
  which: 'h' | 'z',
  batchSize: number,
  view: (x: Tensor4D) => Tensor4D = (x) => x,
  onProgress?: (done: number, total: number) => void,
): Promise<FeatureSet> {
  let dim = 0;
  let x = new Float32Array(0);
  for (let start = 0; start < set.count; start += batchSize) {
    const n = Math.min(batchSize, set.count - start);
    const idx = Int32Array.from({ length: n }, (_, i) => start + i);
    const out = forwardFeatures(branch, () => gatherImages(set, info, idx), info, which, view, n);
    if (start === 0) {
      dim = out.shape[1]!;
      x = new Float32Array(set.count * dim);
    }
    x.set(await readAndDispose(out), start * dim);
    onProgress?.(start + n, set.count);
  }
  return { x, dim, labels: set.labels, count: set.count };
}

/**
 * `extractFeatures` for any set, in memory or read on demand (`set.source`): the pixels are read one
 * batch at a time, the next batch's read overlapping this batch's forward pass, so a set read on
 * demand is never held in memory whole (only its features are). Same features as `extractFeatures`.
 */
export async function readFeatures(
  branch: Branch,
  set: ImageSet,
  info: DatasetInfo,
  which: 'h' | 'z',
  batchSize: number,
  view: (x: Tensor4D) => Tensor4D = (x) => x,
  onProgress?: (done: number, total: number) => void,
): Promise<FeatureSet> {
  if (!set.source) return extractFeatures(branch, set, info, which, batchSize, view, onProgress);
  const batches: Int32Array[] = [];
  for (let start = 0; start < set.count; start += batchSize)
    batches.push(Int32Array.from({ length: Math.min(batchSize, set.count - start) }, (_, i) => start + i));
  let dim = 0;
  let x = new Float32Array(0);
  let next: Promise<Uint8Array> | undefined = batches.length ? readPixels(set, info, batches[0]) : undefined;
  for (let b = 0; b < batches.length; b++) {
    const pixels = await next!;
    next = b + 1 < batches.length ? readPixels(set, info, batches[b + 1]) : undefined;
    next?.catch(() => {});
    const n = batches[b].length;
    const out = forwardFeatures(branch, () => pixelsToTensor(pixels, info, n), info, which, view, n);
    if (b === 0) {
      dim = out.shape[1]!;
      x = new Float32Array(set.count * dim);
    }
    x.set(await readAndDispose(out), batches[b][0] * dim);
    onProgress?.(batches[b][0] + n, set.count);
  }
  return { x, dim, labels: set.labels, count: set.count };
}

/** A tensor's values, read back asynchronously (as every backend allows: WebGPU in a browser may not read synchronously), then the tensor disposed. */
async function readAndDispose(t: Tensor): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}

/** One batch's features `[n, D]` in eval mode: the view, the normalisation, then h or z. */
function forwardFeatures(branch: Branch, images: () => Tensor4D, info: DatasetInfo, which: 'h' | 'z', view: (x: Tensor4D) => Tensor4D, n: number): Tensor {
  return tf.tidy(() => {
    const x = normalizeImages(view(images()), info);
    const f = which === 'h' ? branch.encoder.forward(x, false).h : runBranch(branch, x, false, false).z;
    return tf.reshape(f, [n, -1]);
  });
}
