import { Type } from '@sinclair/typebox';
import { coinFlips, definePlugin, selectPerSample, tf } from '../../core/index.js';

/**
 * Solarize: with probability `p`, invert every pixel at or above `threshold` (x -> 1 - x).
 * `[N, H, W, C]` in [0, 1] -> same.
 *
 * @example { "type": "solarize", "p": 0.2, "threshold": 0.5 }
 */
export default definePlugin({
  kind: 'augmenter',
  name: 'solarize',
  description: 'invert pixels above a threshold with probability p',
  reference: 'BYOL (Grill et al. 2020), table 6: p = 0 / 0.2 for the two views, threshold 0.5',
  options: Type.Object({
    p: Type.Number({ default: 0.2, minimum: 0, maximum: 1, description: 'probability per image' }),
    threshold: Type.Number({ default: 0.5, minimum: 0, maximum: 1, description: 'pixels >= threshold are inverted' }),
  }),
  create: (o) => ({
    apply(x, rng) {
      const apply = coinFlips(rng, x.shape[0], o.p);
      const sol = tf.where(tf.greaterEqual(x, o.threshold), tf.sub(1, x), x);
      return { views: [selectPerSample(apply, sol, x)] };
    },
  }),
});
