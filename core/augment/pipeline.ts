import type { Augmenter } from '../contracts/augmenter.js';
import type { Tensor4D } from '../engine/tf.js';
import type { PluginContext, PluginRef } from '../plugin/definition.js';
import type { Rng } from '../rng.js';

/** Build the single-view augmenters of a `pipeline` option (paths `<ctx.path>/<at>/<i>`). */
export function buildPipeline(refs: PluginRef[], ctx: PluginContext, at = 'pipeline'): Promise<Augmenter[]> {
  return Promise.all(refs.map((r, i) => ctx.registry.create('augmenter', r, { ...ctx, path: `${ctx.path}/${at}/${i}` })));
}

/** Run augmenters in order, each on the previous one's single view. */
export function runPipeline(pipe: Augmenter[], x: Tensor4D, rng: Rng): Tensor4D {
  return pipe.reduce<Tensor4D>((y, aug, i) => {
    const out = aug.apply(y, rng);
    if (out.views.length !== 1) throw new Error(`pipeline step ${i} produced ${out.views.length} views; only single-view augmenters can be chained`);
    return out.views[0];
  }, x);
}
