import { Type } from '@sinclair/typebox';
import { coinFlips, definePlugin, selectPerSample, tf } from '../../core/index.js';

/**
 * Horizontal flip with probability `p`, per sample. `[N, H, W, C] -> [N, H, W, C]`.
 *
 * @example { "type": "horizontal-flip", "p": 0.5 }
 */
export default definePlugin({
  kind: 'augmenter',
  name: 'horizontal-flip',
  description: 'mirror left-right with probability p',
  reference: 'SimCLR appendix A: p = 0.5',
  options: Type.Object({
    p: Type.Number({ default: 0.5, minimum: 0, maximum: 1, description: 'probability of flipping each image' }),
  }),
  create: (o) => ({
    apply(x, rng) {
      const flip = coinFlips(rng, x.shape[0], o.p);
      return { views: [selectPerSample(flip, tf.reverse(x, 2), x)] };
    },
  }),
});
