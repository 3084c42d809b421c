import { Type } from '@sinclair/typebox';
import { buildPipeline, definePlugin, pluginRef, runPipeline, type Augmenter, type Tensor4D } from '../../core/index.js';

/** SwAV's small-crop side relative to the large one: 96 / 224 pixels on ImageNet. */
const SMALL_FRACTION = 96 / 224;

const Crop = Type.Object({
  count: Type.Integer({ minimum: 1, description: 'number of crops of this kind per image' }),
  size: Type.Optional(
    Type.Integer({ minimum: 1, description: 'output side in pixels (default: the image side for the first entry, round(side·96/224) for the others)' }),
  ),
  scale: Type.Tuple([Type.Number({ exclusiveMinimum: 0, maximum: 1 }), Type.Number({ exclusiveMinimum: 0, maximum: 1 })], {
    description: 'range of the crop area as a fraction of the image',
  }),
});

/**
 * Multi-crop (SwAV, Caron et al. 2020, section 3.2): a few large (global) crops plus several small
 * (local) low-resolution crops of each image, every crop a random-resized-crop of its own `scale`
 * and `size`, then the same `pipeline` of single-view augmenters (flip, colour jitter, ...).
 * `[N, H, W, C] -> views: Σ count x [N, size, size, C]`, largest crops first (stable), so losses
 * that treat the first views as the global ones (SwAV's codes, DINO's teacher) find them there.
 *
 * Sizes default relative to the dataset's images: the first entry keeps the image size (the paper's
 * 224 on ImageNet) and later entries take round(side·96/224) (the paper's 96): 28x28 images give
 * 28 and 12. A size larger than the images is a configuration error.
 *
 * @example { "type": "multi-crop", "crops": [{ "count": 2, "scale": [0.14, 1] }, { "count": 4, "scale": [0.05, 0.14] }], "pipeline": [{ "type": "horizontal-flip" }] }
 */
export default definePlugin({
  kind: 'augmenter',
  name: 'multi-crop',
  description: 'SwAV multi-crop: large and small random-resized crops, each through a pipeline',
  reference: 'Caron et al. 2020, SwAV: 2x224 crops at scale (0.14, 1) + 6x96 crops at scale (0.05, 0.14)',
  // the first kind is the large crops (its size the image side by default), and they come first
  globalViews: (o) => o.crops[0]?.count ?? 0,
  options: Type.Object({
    crops: Type.Array(Crop, {
      minItems: 1,
      default: [
        { count: 2, scale: [0.14, 1] },
        { count: 6, scale: [0.05, 0.14] },
      ],
      description: 'kinds of crops; the first entry is the large crops (its size defaults to the image side)',
    }),
    pipeline: Type.Array(pluginRef('augmenter'), { default: [], description: 'augmenters applied in order to every crop after cropping' }),
  }),
  async create(o, ctx) {
    const ds = ctx.dataset;
    const side = ds ? Math.min(ds.height, ds.width) : undefined;
    const kinds = o.crops.map((c, i) => {
      if (c.scale[0] > c.scale[1]) throw new Error(`multi-crop: crops/${i} scale must be [min, max], got [${c.scale}]`);
      let size = c.size;
      if (size === undefined && i > 0) {
        if (side === undefined)
          throw new Error(`multi-crop: crops/${i} has no size, and its default (96/224 of the image side) needs the dataset; give a size`);
        size = Math.max(1, Math.round(side * SMALL_FRACTION));
      }
      if (ds && side !== undefined && size !== undefined && size > side) {
        throw new Error(`multi-crop: crop size ${size} is larger than the ${ds.height}x${ds.width} images; use a size <= ${side}`);
      }
      return { ...c, size, order: size ?? side ?? Infinity };
    });
    // a local crop (its scale range below another kind's) drawn larger than that global one is a configuration slip (DINO, SwAV)
    for (const [i, g] of kinds.entries())
      for (const [j, l] of kinds.entries())
        if (l.scale[1] <= g.scale[0] && l.order > g.order && Number.isFinite(g.order))
          throw new Error(
            `multi-crop: crops/${j} are local crops (scale up to ${l.scale[1]}) of size ${l.order}, larger than the global crops/${i} (scale from ${g.scale[0]}) of size ${g.order}; local crops must not be larger than global ones`,
          );
    // largest first; a stable sort keeps the config's order among equal sizes
    const sorted = kinds.map((k, i) => ({ ...k, i })).sort((a, b) => b.order - a.order);
    const croppers: Augmenter[] = [];
    for (const k of sorted) {
      const ref = { type: 'random-resized-crop', scale: k.scale, ...(k.size !== undefined ? { size: k.size } : {}) };
      const crop = await ctx.registry.create('augmenter', ref, { ...ctx, path: `${ctx.path}/crops/${k.i}` });
      for (let c = 0; c < k.count; c++) croppers.push(crop);
    }
    const pipe = await buildPipeline(o.pipeline, ctx);
    return {
      apply: (x, rng) => ({ views: croppers.map((crop) => runPipeline(pipe, crop.apply(x, rng).views[0] as Tensor4D, rng)) }),
    };
  },
});
