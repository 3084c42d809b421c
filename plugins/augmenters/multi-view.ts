import { Type } from '@sinclair/typebox';
import { definePlugin, pluginRef, type Augmenter, type Tensor4D } from '../../core/index.js';

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
    const build = (refs: typeof o.pipeline, at: string) =>
      Promise.all(refs.map((r, i) => ctx.registry.create('augmenter', r, { ...ctx, path: `${ctx.path}/${at}/${i}` })));
    const pipelines: Augmenter[][] = o.viewPipelines
      ? await Promise.all(o.viewPipelines.map((p, v) => build(p, `viewPipelines/${v}`)))
      : Array(o.views).fill(await build(o.pipeline, 'pipeline'));
    return {
      apply(x, rng) {
        const views = pipelines.map((pipe) =>
          pipe.reduce<Tensor4D>((y, aug, i) => {
            const out = aug.apply(y, rng);
            if (out.views.length !== 1) throw new Error(`pipeline step ${i} produced ${out.views.length} views; only single-view augmenters can be chained`);
            return out.views[0];
          }, x),
        );
        return { views };
      },
    };
  },
});
