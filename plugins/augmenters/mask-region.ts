import { Type } from '@sinclair/typebox';
import { definePlugin, tf } from '../../core/index.js';

/**
 * Region masking for inpainting (context encoder, Pathak et al. 2016): a square covering `fraction`
 * of each image, at the centre or at a random place, is filled with the dataset mean (or `fill`).
 * One view (the masked image); targets `image` (the original `[N, H, W, C]`) and `mask`
 * (`[N, H, W, 1]`, 1 inside the region).
 *
 * @example { "type": "mask-region", "fraction": 0.25, "mode": "center" }
 */
export default definePlugin({
  kind: 'augmenter',
  name: 'mask-region',
  description: 'fill a square region with the mean; the original and the mask are targets (inpainting)',
  reference: 'Pathak et al. 2016: central region, 1/4 of the image area',
  options: Type.Object({
    fraction: Type.Number({ default: 0.25, exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'area of the square as a fraction of the image' }),
    mode: Type.Union([Type.Literal('center'), Type.Literal('random')], { default: 'center', description: 'where the square goes' }),
    fill: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'fill value (default: the dataset mean per channel)' })),
  }),
  create(o, ctx) {
    const mean = ctx.dataset?.mean ?? [0.5];
    return {
      apply(x, rng) {
        const [n, h, w, c] = x.shape;
        const side = Math.max(1, Math.round(Math.sqrt(o.fraction * h * w)));
        const m = new Float32Array(n * h * w);
        for (let b = 0; b < n; b++) {
          const top = o.mode === 'center' ? (h - side) >> 1 : rng.int(h - side + 1);
          const left = o.mode === 'center' ? (w - side) >> 1 : rng.int(w - side + 1);
          for (let i = top; i < top + side; i++) m.fill(1, b * h * w + i * w + left, b * h * w + i * w + left + side);
        }
        const mask = tf.tensor4d(m, [n, h, w, 1]);
        const fill = o.fill !== undefined ? tf.fill([c], o.fill) : tf.tensor1d(c === mean.length ? mean : Array(c).fill(mean[0]));
        const view = tf.add(tf.mul(x, tf.sub(1, mask)), tf.mul(mask, fill)) as tf.Tensor4D;
        return { views: [view], supervision: { image: x, mask } };
      },
    };
  },
});
