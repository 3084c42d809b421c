import { Type } from '@sinclair/typebox';
import { coinFlips, definePlugin, luma, selectPerSample, tf } from '../../core/index.js';

/**
 * Random grayscale: with probability `p`, replace each channel by the image's luma (BT.601). For
 * 1-channel images it is the identity. `[N, H, W, C] -> [N, H, W, C]`.
 *
 * @example { "type": "grayscale", "p": 0.2 }
 */
export default definePlugin({
  kind: 'augmenter',
  name: 'grayscale',
  description: 'convert to grey with probability p',
  reference: 'SimCLR appendix A: p = 0.2',
  options: Type.Object({
    p: Type.Number({ default: 0.2, minimum: 0, maximum: 1, description: 'probability per image' }),
  }),
  create: (o) => ({
    apply(x, rng) {
      const c = x.shape[3];
      const apply = coinFlips(rng, x.shape[0], o.p);
      if (c === 1) return { views: [x] };
      const grey = tf.tile(luma(x), [1, 1, 1, c]);
      return { views: [selectPerSample(apply, grey, x)] };
    },
  }),
});
