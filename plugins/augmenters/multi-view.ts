import { Type } from '@sinclair/typebox';
import { buildPipeline, definePlugin, pluginRef, runPipeline, type Augmenter } from '../../core/index.js';

/**
 * Multi-view composer: N independently augmented views of each image, each made by running a
 * pipeline of single-view augmenters in order (every random draw differs per view). SimCLR and MoCo
 * use 2 views of one pipeline; BYOL-style asymmetric views give `viewPipelines` (one per view).
 * `[N, H, W, C] -> views: V x [N, H', W', C]`.
 *
 * @example { "type": "multi-view", "views": 2, "pipeline": [{ "type": "random-resized-crop" }, { "type": "horizontal-flip" }] }
 */
export default definePlugin({
  kind: 'augmenter',
  name: 'multi-view',
  description: 'N views, each through a pipeline of augmenters',
  reference: 'SimCLR / MoCo: 2 views of the same stochastic pipeline',
  options: Type.Object({
    views: Type.Integer({ default: 2, minimum: 1, description: 'number of views per image' }),
    pipeline: Type.Array(pluginRef('augmenter'), { default: [], description: 'augmenters applied in order to every view' }),
    viewPipelines: Type.Optional(Type.Array(Type.Array(pluginRef('augmenter')), { description: 'one pipeline per view (overrides pipeline)' })),
  }),
  async create(o, ctx) {
    if (o.viewPipelines && o.viewPipelines.length !== o.views) {
      throw new Error(`viewPipelines has ${o.viewPipelines.length} pipelines for ${o.views} views: give one per view`);
    }
    const pipelines: Augmenter[][] = o.viewPipelines
      ? await Promise.all(o.viewPipelines.map((p, v) => buildPipeline(p, ctx, `viewPipelines/${v}`)))
      : Array(o.views).fill(await buildPipeline(o.pipeline, ctx));
    return {
      apply: (x, rng) => ({ views: pipelines.map((pipe) => runPipeline(pipe, x, rng)) }),
    };
  },
});
