import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { definePlugin, normalizeImages, readImages, tf, type Tensor4D } from '../../core/index.js';
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
        const encoder = run.tasks[0].branch.encoder;
        const x = await readImages(set, info, idx);
        const rows = tf.tidy(() => {
          const seen = run.tasks[0].augmenter.evalView?.(x) ?? x;
          const attention = encoder.forward(normalizeImages(seen, info), false).attention;
          if (!attention || attention.rank !== 4) return undefined;
          return clsAttentionRows(x, attention as Tensor4D);
        });
        x.dispose();
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

/**
 * Per image `[1 + heads, H, W, C]`: the image, then each head's attention from `cls` to the patches
 * (`attention[:, head, 0, 1:]` on the patch grid), min-max scaled per map, nearest-upsampled to H x W.
 */
export function clsAttentionRows(images: Tensor4D, attention: Tensor4D): Tensor4D[] {
  const [n, h, w, c] = images.shape;
  const [, heads, len] = attention.shape;
  const t = len - 1;
  const side = Math.round(Math.sqrt(t));
  const gh = side;
  const gw = t / side;
  const fromCls = tf.reshape(tf.slice(attention, [0, 0, 0, 1], [n, heads, 1, t]), [n * heads, t]);
  const lo = tf.min(fromCls, 1, true);
  const hi = tf.max(fromCls, 1, true);
  const scaled = tf.div(tf.sub(fromCls, lo), tf.maximum(tf.sub(hi, lo), 1e-12));
  const maps = tf.image.resizeNearestNeighbor(tf.reshape(scaled, [n * heads, gh, gw, 1]) as Tensor4D, [h, w]);
  const coloured = tf.reshape(c === 1 ? maps : tf.tile(maps, [1, 1, 1, c]), [n, heads, h, w, c]);
  return Array.from({ length: n }, (_, i) =>
    tf.concat([tf.slice(images, [i, 0, 0, 0], [1, h, w, c]), tf.reshape(tf.slice(coloured, [i, 0, 0, 0, 0], [1, heads, h, w, c]), [heads, h, w, c])], 0),
  ) as Tensor4D[];
}
