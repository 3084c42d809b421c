import fs from 'node:fs';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { Rng, definePlugin, gatherImages, labToRgb, normalizeImages, tf, type Tensor4D, runBranch } from '../../core/index.js';
import { gamutBins } from '../losses/colorization.js';

/**
 * Pictures of what a generative task learned: after each epoch, a PNG grid of `count` fixed test
 * images, one column each, rows input / prediction / target: for inpainting (a `mask` target) the
 * masked input, the prediction pasted into the hole, and the original; for colorization (an `ab`
 * target) the lightness, the predicted colours (the mean over bins for the classification form,
 * annealed with temperature 0.38 as Zhang et al.; ab scaled by lab-split's default 110), and the original. Written to
 * `<out>/pictures/<task>-epoch-<n>.png`; the path is logged.
 *
 * @example { "type": "image-grid", "count": 8, "scale": 4 }
 */
export default definePlugin({
  kind: 'callback',
  name: 'image-grid',
  description: 'PNG grid of inputs, predictions and targets each epoch (inpainting, colorization)',
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
        const idx = Int32Array.from({ length: Math.min(o.count, set.count) }, (_, i) => i);
        for (const task of run.tasks) {
          if (o.task && task.name !== o.task) continue;
          const rows = tf.tidy(() => {
            const x = gatherImages(set, info, idx);
            const { views, supervision: targets } = task.augmenter.apply(x, Rng.fromSeed(0, 'image-grid'));
            if (!targets?.mask && !targets?.ab) return undefined;
            const pred = runBranch(task.branch, normalizeImages(views[0], info), false, false).z as Tensor4D;
            if (targets.mask) return [views[0], tf.add(tf.mul(views[0], tf.sub(1, targets.mask)), tf.mul(pred, targets.mask)), x] as Tensor4D[];
            const l = tf.mul(targets.L, 100);
            const ab = pred.shape[3] === 2 ? tf.mul(pred, 110) : expectedAb(pred);
            const colour = labToRgb(tf.concat([l, ab], 3) as Tensor4D);
            return [tf.tile(targets.L, [1, 1, 1, 3]), colour, x] as Tensor4D[];
          });
          if (!rows) continue;
          const file = path.join(ctx.outDir, 'pictures', `${task.name}-epoch-${String(report.epoch).padStart(3, '0')}.png`);
          await writeGrid(rows, o.scale, file);
          tf.dispose(rows);
          ctx.log(`picture: ${file}`);
        }
      },
    };
  },
});

/** Colour from bin logits: the mean ab under softmax(logits / 0.38) (Zhang et al.'s annealed mean). */
function expectedAb(logits: Tensor4D): tf.Tensor {
  const q = logits.shape[3];
  const bins = tf.tensor2d(gamutBins(10), [q, 2]);
  const p = tf.softmax(tf.div(tf.reshape(logits, [-1, q]), 0.38));
  return tf.reshape(tf.matMul(p, bins), [...logits.shape.slice(0, 3), 2]);
}

/** Rows of `[N, H, W, C]` images in [0, 1] -> one PNG, N columns, 2 px gaps, magnified. */
async function writeGrid(rows: Tensor4D[], scale: number, file: string): Promise<void> {
  const [n, h, w] = rows[0].shape;
  const gap = 2;
  const W = n * (w * scale + gap) + gap;
  const H = rows.length * (h * scale + gap) + gap;
  const buf = Buffer.alloc(W * H * 3, 255);
  rows.forEach((t, r) => {
    const c = t.shape[3];
    const v = t.dataSync();
    for (let b = 0; b < n; b++)
      for (let y = 0; y < h * scale; y++)
        for (let x = 0; x < w * scale; x++) {
          const src = ((b * h + Math.floor(y / scale)) * w + Math.floor(x / scale)) * c;
          const dst = ((gap + r * (h * scale + gap) + y) * W + gap + b * (w * scale + gap) + x) * 3;
          for (let k = 0; k < 3; k++) buf[dst + k] = Math.round(255 * Math.min(1, Math.max(0, v[src + (c === 3 ? k : 0)])));
        }
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const { default: sharp } = await import('sharp'); // at use, not at import (selfsup's import loads no native addon)
  await sharp(buf, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toFile(file);
}
