import { Type } from '@sinclair/typebox';
import { definePlugin, tf, type Tensor4D } from '../../core/index.js';

/**
 * Random resized crop (Szegedy et al. 2015; SimCLR's main augmentation, Chen et al. 2020): a crop of
 * random area fraction in `scale` and aspect ratio in `ratio` (log-uniform), resized to `size`.
 * Sampled like torchvision's RandomResizedCrop (10 tries, then a central crop). One batched
 * `cropAndResize` (bilinear). `[N, H, W, C] -> [N, size, size, C]`.
 *
 * @example { "type": "random-resized-crop", "scale": [0.2, 1] }
 */
export default definePlugin({
  kind: 'augmenter',
  name: 'random-resized-crop',
  description: 'crop a random area fraction and aspect ratio, resize back (SimCLR)',
  reference: 'Chen et al. 2020, SimCLR, appendix A: scale (0.08, 1), ratio (3/4, 4/3)',
  options: Type.Object({
    scale: Type.Tuple([Type.Number({ exclusiveMinimum: 0, maximum: 1 }), Type.Number({ exclusiveMinimum: 0, maximum: 1 })], {
      default: [0.08, 1],
      description: 'range of the crop area as a fraction of the image (SimCLR: 0.08-1)',
    }),
    ratio: Type.Tuple([Type.Number({ exclusiveMinimum: 0 }), Type.Number({ exclusiveMinimum: 0 })], {
      default: [3 / 4, 4 / 3],
      description: 'range of the aspect ratio w/h, sampled log-uniformly',
    }),
    size: Type.Optional(Type.Integer({ minimum: 1, description: 'output side in pixels (default: the input size)' })),
  }),
  create(o) {
    if (o.scale[0] > o.scale[1]) throw new Error(`scale must be [min, max], got [${o.scale}]`);
    if (o.ratio[0] > o.ratio[1]) throw new Error(`ratio must be [min, max], got [${o.ratio}]`);
    return {
      apply(x, rng) {
        const [n, h, w] = x.shape;
        const boxes = new Float32Array(n * 4);
        const [lr0, lr1] = [Math.log(o.ratio[0]), Math.log(o.ratio[1])];
        for (let b = 0; b < n; b++) {
          let ch = h;
          let cw = w;
          let top = 0;
          let left = 0;
          let found = false;
          for (let t = 0; t < 10 && !found; t++) {
            const area = h * w * rng.uniform(o.scale[0], o.scale[1]);
            const r = Math.exp(rng.uniform(lr0, lr1));
            const tw = Math.round(Math.sqrt(area * r));
            const th = Math.round(Math.sqrt(area / r));
            if (tw > 0 && th > 0 && tw <= w && th <= h) {
              ch = th;
              cw = tw;
              top = rng.int(h - th + 1);
              left = rng.int(w - tw + 1);
              found = true;
            }
          }
          if (!found) {
            // central crop at the nearest allowed ratio (torchvision's fallback)
            const r = w / h;
            if (r < o.ratio[0]) {
              cw = w;
              ch = Math.round(w / o.ratio[0]);
            } else if (r > o.ratio[1]) {
              ch = h;
              cw = Math.round(h * o.ratio[1]);
            }
            top = (h - ch) >> 1;
            left = (w - cw) >> 1;
          }
          boxes.set([top / Math.max(h - 1, 1), left / Math.max(w - 1, 1), (top + ch - 1) / Math.max(h - 1, 1), (left + cw - 1) / Math.max(w - 1, 1)], b * 4);
        }
        const size = o.size ?? h;
        const outW = o.size ?? w;
        const y = tf.image.cropAndResize(x, tf.tensor2d(boxes, [n, 4]), tf.range(0, n, 1, 'int32') as tf.Tensor1D, [size, outW], 'bilinear');
        return { views: [y as Tensor4D] };
      },
    };
  },
});
