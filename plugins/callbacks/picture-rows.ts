import {
  Rng,
  labToRgb,
  normalizeImages,
  readImages,
  runBranch,
  tf,
  type DatasetInfo,
  type ImageSet,
  type TaskRuntime,
  type Tensor3D,
  type Tensor4D,
} from '../../core/index.js';
import { gamutBins } from '../losses/colorization.js';
import { patchStats, patchify, unpatchify } from '../losses/mae.js';

/**
 * The rows of a generative task's picture for the images `idx` of `set`: input, prediction,
 * target, each `[N, H, W, 3|1]` in [0, 1] (see image-grid for what each task shows), or undefined
 * for a task with no image target. Portable: the image-grid callback writes them as a PNG, the
 * browser playground draws them. The caller disposes the rows.
 */
export async function pictureRows(
  task: Pick<TaskRuntime, 'augmenter' | 'branch'>,
  set: ImageSet,
  info: DatasetInfo,
  idx: Int32Array,
): Promise<Tensor4D[] | undefined> {
  const x = await readImages(set, info, idx);
  const rows = tf.tidy(() => {
    const { views, supervision: targets, keep } = task.augmenter.apply(x, Rng.fromSeed(0, 'image-grid'));
    if (!targets?.mask && !targets?.ab && !targets?.patchMask) return undefined;
    const out = runBranch(task.branch, normalizeImages(views[0], info), false, false, keep?.[0] ? { keep: keep[0] } : undefined);
    if (targets.patchMask) return maskedPatchRows(targets.image as Tensor4D, out.z as Tensor3D, targets.patchMask);
    const pred = out.z as Tensor4D;
    if (targets.mask) return [views[0], tf.add(tf.mul(views[0], tf.sub(1, targets.mask)), tf.mul(pred, targets.mask)), x] as Tensor4D[];
    const l = tf.mul(targets.L, 100);
    const ab = pred.shape[3] === 2 ? tf.mul(pred, 110) : expectedAb(pred);
    const colour = labToRgb(tf.concat([l, ab], 3) as Tensor4D);
    return [tf.tile(targets.L, [1, 1, 1, 3]), colour, x] as Tensor4D[];
  });
  if (!rows) x.dispose();
  else if (!rows.includes(x as Tensor4D)) x.dispose();
  return rows;
}

/**
 * MAE's picture (its visualisation): the view with masked patches grey, the reconstruction (the
 * predicted patches, de-normalised with each original patch's mean and deviation as the loss's
 * `normPixels` normalised them, pasted into the masked places), and the view.
 */
function maskedPatchRows(image: Tensor4D, pred: Tensor3D, patchMask: tf.Tensor): Tensor4D[] {
  const [, h, w] = image.shape;
  const t = pred.shape[1];
  const patches = patchify(image, t);
  const { mean, std } = patchStats(patches);
  const recon = tf.add(tf.mul(pred, std), mean);
  const m = tf.expandDims(patchMask, -1);
  const keep = tf.sub(1, m);
  const masked = unpatchify(tf.add(tf.mul(patches, keep), tf.mul(m, 0.5)) as Tensor3D, h, w);
  const filled = unpatchify(tf.add(tf.mul(patches, keep), tf.mul(recon, m)) as Tensor3D, h, w);
  return [masked, filled, image];
}

/** Colour from bin logits: the mean ab under softmax(logits / 0.38) (Zhang et al.'s annealed mean). */
function expectedAb(logits: Tensor4D): tf.Tensor {
  const q = logits.shape[3];
  const bins = tf.tensor2d(gamutBins(10), [q, 2]);
  const p = tf.softmax(tf.div(tf.reshape(logits, [-1, q]), 0.38));
  return tf.reshape(tf.matMul(p, bins), [...logits.shape.slice(0, 3), 2]);
}
