import { tf, type Tensor, type Tensor2D, type Tensor4D } from '../engine/tf.js';
import type { DatasetInfo } from '../contracts/data.js';
import type { Branch } from '../contracts/modules.js';
import { normalizeImages } from '../data/batch.js';

/**
 * Run a branch (encoder + head) on views. With `concat` and views of equal shape, all views go
 * through as one batch (batch-norm statistics over every view, as SimCLR's implementation does);
 * otherwise view by view. Returns one output per view.
 */
export function forwardViews(branch: Branch, views: Tensor[], info: DatasetInfo, training: boolean, concat: boolean): Tensor[] {
  const norm = views.map((v) => normalizeImages(v as Tensor4D, info));
  const sameShape = norm.every((v) => v.shape.join() === norm[0].shape.join());
  if (concat && sameShape && norm.length > 1) {
    const out = branch.head.forward(branch.encoder.forward(tf.concat(norm, 0), training), training);
    return tf.split(out, norm.length, 0);
  }
  return norm.map((v) => branch.head.forward(branch.encoder.forward(v, training), training));
}

export const as2d = (ts: Tensor[]): Tensor2D[] => ts as Tensor2D[];
