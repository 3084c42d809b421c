import { Type } from '@sinclair/typebox';
import { buildPipeline, definePlugin, pluginRef, runPipeline, tf, type Tensor4D } from '../../core/index.js';

/** Rotate `[N, H, W, C]` by k x 90 degrees counter-clockwise. */
export function rot90(x: Tensor4D, k: number): Tensor4D {
  let y = x;
  for (let i = 0; i < ((k % 4) + 4) % 4; i++) y = tf.reverse(tf.transpose(y, [0, 2, 1, 3]), 1) as Tensor4D;
  return y;
}

/**
 * RotNet's pretext task (Gidaris et al. 2018): predict which of 0/90/180/270 degrees an image was
 * rotated by. `mode: "all"` gives four views, view r being every image rotated by r x 90 degrees
 * counter-clockwise (as RotNet trains), with `supervision.labels` = [0 x N, 1 x N, 2 x N, 3 x N];
 * `mode: "random"` gives one view with a random rotation per image. `pipeline` runs first (RotNet:
 * a light crop and flip). `[N, H, W, C] -> 4 x [N, W?, H?, C]` (square images keep their shape).
 *
 * @example { "type": "rotate4", "pipeline": [{ "type": "random-resized-crop", "scale": [0.5, 1] }, { "type": "horizontal-flip" }] }
 */
export default definePlugin({
  kind: 'augmenter',
  name: 'rotate4',
  description: 'rotations by 0/90/180/270 degrees with their labels (RotNet)',
  reference: 'Gidaris, Singh & Komodakis 2018: all four rotations of each image in a batch',
  options: Type.Object({
    mode: Type.Union([Type.Literal('all'), Type.Literal('random')], {
      default: 'all',
      description: 'all four rotations as four views, or one random rotation per image',
    }),
    pipeline: Type.Array(pluginRef('augmenter'), { default: [], description: 'single-view augmenters applied before rotating' }),
  }),
  async create(o, ctx) {
    const pipe = await buildPipeline(o.pipeline, ctx);
    return {
      apply(x, rng) {
        const y = runPipeline(pipe, x, rng);
        const n = y.shape[0];
        if (o.mode === 'all') {
          const labels = Int32Array.from({ length: 4 * n }, (_, i) => Math.floor(i / n));
          return { views: [0, 1, 2, 3].map((k) => rot90(y, k)), supervision: { labels: tf.tensor1d(labels, 'int32') } };
        }
        const k = Int32Array.from({ length: n }, () => rng.int(4));
        const rotated = [0, 1, 2, 3].map((r) => rot90(y, r));
        const pick = (r: number) => tf.reshape(tf.tensor1d(Float32Array.from(k, (v) => (v === r ? 1 : 0))), [n, 1, 1, 1]);
        const view = tf.addN(rotated.map((t, r) => tf.mul(t, pick(r)))) as Tensor4D;
        return { views: [view], supervision: { labels: tf.tensor1d(k, 'int32') } };
      },
    };
  },
});
