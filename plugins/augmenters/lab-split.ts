import { Type } from '@sinclair/typebox';
import { buildPipeline, definePlugin, pluginRef, rgbToLab, runPipeline, tf, type Tensor4D } from '../../core/index.js';

/**
 * Colorization input and target (Zhang et al. 2016): the image in CIE Lab; the view is the
 * lightness L/100 in [0, 1] (repeated over the dataset's channels so a colour encoder takes it), the
 * target `ab` the colour channels `[N, H, W, 2]` divided by `abScale` (110: about [-1, 1]), and
 * `L` `[N, H, W, 1]` for pictures. `pipeline` runs first (crop, flip). RGB input only.
 *
 * @example { "type": "lab-split", "pipeline": [{ "type": "random-resized-crop", "scale": [0.5, 1] }] }
 */
export default definePlugin({
  kind: 'augmenter',
  name: 'lab-split',
  description: 'sRGB -> CIE Lab; lightness as the view, ab as the target (colorization)',
  reference: 'Zhang, Isola & Efros 2016',
  options: Type.Object({
    abScale: Type.Number({ default: 110, exclusiveMinimum: 0, description: 'ab is divided by this (110: about [-1, 1])' }),
    pipeline: Type.Array(pluginRef('augmenter'), { default: [], description: 'single-view augmenters applied first' }),
  }),
  async create(o, ctx) {
    const channels = ctx.dataset?.channels ?? 3;
    if (channels !== 3) throw new Error(`lab-split needs RGB images; this dataset has ${channels} channel(s)`);
    const pipe = await buildPipeline(o.pipeline, ctx);
    const lightness = (rgb: Tensor4D) => tf.div(tf.split(rgbToLab(rgb), 3, 3)[0], 100) as Tensor4D;
    return {
      // evaluated on what it trains on: the lightness channel (Zhang et al. probe the L-input network)
      evalView: (x) => tf.tile(lightness(x), [1, 1, 1, channels]) as Tensor4D,
      apply(x, rng) {
        const y = runPipeline(pipe, x, rng);
        const lab = rgbToLab(y);
        const [l, a, b] = tf.split(lab, 3, 3);
        const lightness = tf.div(l, 100) as Tensor4D;
        return {
          views: [tf.tile(lightness, [1, 1, 1, channels]) as Tensor4D],
          supervision: { ab: tf.div(tf.concat([a, b], 3), o.abScale), L: lightness },
        };
      },
    };
  },
});
