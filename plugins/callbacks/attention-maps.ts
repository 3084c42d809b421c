import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { definePlugin, tf } from '../../core/index.js';
import { attentionRows } from './attention-rows.js';
import { spreadIndices, writeGrid } from './png-grid.js';

/**
 * DINO's signature picture (Caron et al. 2021, figure 1): for fixed test images (spread over the set), where the `cls`
 * token of the encoder's last block looks: its attention to each patch, one map per head, each
 * scaled to [0, 1] and magnified to the image's size (nearest). One row per image: the image, then
 * the heads side by side. Needs an encoder that outputs `attention` `[N, heads, 1+T, 1+T]` (`vit`).
 * Written to `<out>/pictures/attention-epoch-<n>.png`; the path is logged.
 *
 * @example { "type": "attention-maps", "count": 8, "scale": 4 }
 */
export default definePlugin({
  kind: 'callback',
  name: 'attention-maps',
  description: "PNG of the last block's cls attention per head for fixed test images, each epoch (DINO)",
  reference: 'Caron et al. 2021, figure 1 and section 4.2.1',
  options: Type.Object({
    count: Type.Integer({ default: 8, minimum: 1, maximum: 64, description: 'images (rows)' }),
    scale: Type.Integer({ default: 4, minimum: 1, maximum: 16, description: 'pixel magnification' }),
  }),
  create(o, ctx) {
    let warned = false;
    return {
      async onEpochEnd(report, run) {
        if (!ctx.outDir) return;
        const set = run.data.test ?? run.data.train;
        const info = run.data.info;
        const idx = spreadIndices(set.count, o.count);
        const rows = await attentionRows(run.tasks[0], set, info, idx);
        if (!rows) {
          if (!warned) ctx.log(`attention-maps: the encoder gives no attention output (a vit does); no picture`);
          warned = true;
          return;
        }
        const file = path.join(ctx.outDir, 'pictures', `attention-epoch-${String(report.epoch).padStart(3, '0')}.png`);
        await writeGrid(rows, o.scale, file);
        tf.dispose(rows);
        ctx.log(`picture: ${file}`);
      },
    };
  },
});
