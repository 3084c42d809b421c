import { Type } from '@sinclair/typebox';
import { coinFlips, definePlugin, perSample, selectPerSample, tf, type Tensor4D } from '../../core/index.js';

/**
 * Gaussian blur with a random sigma per image (SimCLR): with probability `p`, a separable Gaussian
 * of sigma in `sigma` (pixels) and odd kernel `kernel` (default 10% of the image side, as SimCLR),
 * reflect padding. Batched: each of the k taps is a shifted slice weighted per sample.
 * `[N, H, W, C] -> same`.
 *
 * @example { "type": "gaussian-blur", "sigma": [0.1, 2.0], "p": 0.5 }
 */
export default definePlugin({
  kind: 'augmenter',
  name: 'gaussian-blur',
  description: 'blur with a random sigma with probability p',
  reference: 'SimCLR appendix A: sigma in [0.1, 2.0], kernel 10% of the side, p = 0.5 (ImageNet only)',
  options: Type.Object({
    sigma: Type.Tuple([Type.Number({ exclusiveMinimum: 0 }), Type.Number({ exclusiveMinimum: 0 })], {
      default: [0.1, 2.0],
      description: 'sigma range in pixels',
    }),
    kernel: Type.Optional(Type.Integer({ minimum: 3, description: 'odd kernel size (default: 10% of the image side, at least 3)' })),
    p: Type.Number({ default: 0.5, minimum: 0, maximum: 1, description: 'probability per image' }),
  }),
  create(o) {
    if (o.sigma[0] > o.sigma[1]) throw new Error(`sigma must be [min, max], got [${o.sigma}]`);
    if (o.kernel !== undefined && o.kernel % 2 === 0) throw new Error(`kernel must be odd, got ${o.kernel}`);
    return {
      apply(x, rng) {
        const [n, h, w] = x.shape;
        let k = o.kernel ?? Math.max(3, Math.round(0.1 * Math.min(h, w)));
        if (k % 2 === 0) k += 1;
        const r = k >> 1;
        const apply = coinFlips(rng, n, o.p);
        const weights: Float32Array[] = Array.from({ length: k }, () => new Float32Array(n));
        for (let b = 0; b < n; b++) {
          const s = rng.uniform(o.sigma[0], o.sigma[1]);
          let total = 0;
          for (let i = 0; i < k; i++) total += Math.exp(-((i - r) ** 2) / (2 * s * s));
          for (let i = 0; i < k; i++) weights[i][b] = Math.exp(-((i - r) ** 2) / (2 * s * s)) / total;
        }
        const pass = (t: Tensor4D, axis: 1 | 2): Tensor4D => {
          const pad: Array<[number, number]> = [
            [0, 0],
            [0, 0],
            [0, 0],
            [0, 0],
          ];
          pad[axis] = [r, r];
          const padded = tf.mirrorPad(t, pad, 'reflect');
          let acc: tf.Tensor | undefined;
          for (let i = 0; i < k; i++) {
            const begin = [0, 0, 0, 0];
            begin[axis] = i;
            const term = tf.mul(tf.slice(padded, begin, t.shape), perSample(weights[i]));
            acc = acc ? tf.add(acc, term) : term;
          }
          return acc as Tensor4D;
        };
        if (r >= h || r >= w) return { views: [x] }; // reflect padding needs r < side
        const blurred = pass(pass(x, 2), 1);
        return { views: [selectPerSample(apply, blurred, x)] };
      },
    };
  },
});
