import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { definePlugin, tf } from '../../core/index.js';
import { pictureRows } from './picture-rows.js';
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
          const rows = await pictureRows(task, set, info, idx);
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
