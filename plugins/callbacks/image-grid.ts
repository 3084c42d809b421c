import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { Rng, definePlugin, labToRgb, readImages, normalizeImages, tf, type Tensor3D, type Tensor4D, runBranch } from '../../core/index.js';
import { gamutBins } from '../losses/colorization.js';
import { patchStats, patchify, unpatchify } from '../losses/mae.js';
import { spreadIndices, writeGrid } from './png-grid.js';

/**
 * Pictures of what a generative task learned: after each epoch, a PNG grid of `count` fixed test
 * images, one column each, rows input / prediction / target: for inpainting (a `mask` target) the
 * masked input, the prediction pasted into the hole, and the original; for colorization (an `ab`
 * target) the lightness, the predicted colours (the mean over bins for the classification form,
 * annealed with temperature 0.38 as Zhang et al.; ab scaled by lab-split's default 110), and the original; for MAE (a
 * `patchMask` target) the view with its masked patches grey, the reconstruction pasted into them, and the view. Written to
 * `<out>/pictures/<task>-epoch-<n>.png`; the path is logged.
 *
 * @example { "type": "image-grid", "count": 8, "scale": 4 }
 */
export default definePlugin({
  kind: 'callback',
  name: 'image-grid',
  description: 'PNG grid of inputs, predictions and targets each epoch (inpainting, colorization, MAE)',
  options: Type.Object({
    count: Type.Integer({ default: 8, minimum: 1, maximum: 64, description: 'images (columns)' }),
    scale: Type.Integer({ default: 4, minimum: 1, maximum: 16, description: 'pixel magnification' }),
    task: Type.Optional(Type.String({ description: 'task to draw (default: the first with an image target)' })),
  }),
  create(o, ctx) {
    return {
      async onEpochEnd(report, run) {
        if (!ctx.outDir) return;
        const set = run.data.test ?? run.data.train;
        const info = run.data.info;
        const idx = spreadIndices(set.count, o.count);
        for (const task of run.tasks) {
          if (o.task && task.name !== o.task) continue;
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
          if (!rows) {
            x.dispose();
            continue;
          }
          const file = path.join(ctx.outDir, 'pictures', `${task.name}-epoch-${String(report.epoch).padStart(3, '0')}.png`);
          await writeGrid(rows, o.scale, file);
          tf.dispose(rows);
          x.dispose(); // may be one of the rows: disposing twice is a no-op
          ctx.log(`picture: ${file}`);
        }
      },
    };
  },
});

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
