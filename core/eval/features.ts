import { tf } from '../engine/tf.js';
import type { DatasetInfo, ImageSet } from '../contracts/data.js';
import type { FeatureSet } from '../contracts/evaluator.js';
import type { Branch } from '../contracts/modules.js';
import type { Tensor4D } from '../engine/tf.js';
import { gatherImages, normalizeImages } from '../data/batch.js';
import { runBranch } from '../train/branch.js';

/**
 * Frozen features of a labelled set: eval mode (batch-norm running statistics), un-augmented,
 * normalised images (through `view`, the task's `Augmenter.evalView`, when it has one); `h` is the
 * encoder's pooled output, `z` the head's output on it.
 */
export function extractFeatures(
  branch: Branch,
  set: ImageSet,
  info: DatasetInfo,
  which: 'h' | 'z',
  batchSize: number,
  view: (x: Tensor4D) => Tensor4D = (x) => x,
): FeatureSet {
  let dim = 0;
  let x = new Float32Array(0);
  for (let start = 0; start < set.count; start += batchSize) {
    const n = Math.min(batchSize, set.count - start);
    const idx = Int32Array.from({ length: n }, (_, i) => start + i);
    const out = tf.tidy(() => {
      const x = normalizeImages(view(gatherImages(set, info, idx)), info);
      const f = which === 'h' ? branch.encoder.forward(x, false).h : runBranch(branch, x, false, false).z;
      return tf.reshape(f, [n, -1]);
    });
    if (start === 0) {
      dim = out.shape[1]!;
      x = new Float32Array(set.count * dim);
    }
    x.set(out.dataSync() as Float32Array, start * dim);
    out.dispose();
  }
  return { x, dim, labels: set.labels, count: set.count };
}
