import { Type } from '@sinclair/typebox';
import { buildPipeline, definePlugin, pluginRef, runPipeline, tf, type Rng } from '../../core/index.js';

/**
 * MAE's masking (He et al. 2022, section 3): the image (after an optional `pipeline`, MAE's is a
 * random-resized crop and a flip) is cut into `patchSize` patches, and per sample a uniformly random
 * `ratio` of them is masked: the encoder keeps the other `floor(T·(1-ratio))` (`keep`, `[N, K]`
 * int32, ascending), a different set per sample, drawn from the run's augmentation stream.
 * One view; supervision `image` (the view `[N, H, W, C]`, in [0, 1]) and `patchMask` (`[N, T]`,
 * 1 where a patch is masked), which a reconstruction loss reads. `patchSize` must be the encoder's.
 *
 * @example { "type": "mask-patches", "ratio": 0.75, "patchSize": 4 }
 */
export default definePlugin({
  kind: 'augmenter',
  name: 'mask-patches',
  description: 'random per-sample patch masking: the encoder keeps 1-ratio of the patches (MAE)',
  reference: 'He et al. 2022: 75% of the patches masked, uniformly at random per sample',
  emitsKeep: true,
  options: Type.Object({
    ratio: Type.Number({ default: 0.75, exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'fraction of the patches masked' }),
    patchSize: Type.Integer({ minimum: 1, default: 4, description: "side of a patch in pixels: the encoder's patch size" }),
    pipeline: Type.Array(pluginRef('augmenter'), {
      default: [],
      description: 'single-view augmenters applied before masking (MAE: random-resized-crop, flip)',
    }),
  }),
  async create(o, ctx) {
    const pipe = await buildPipeline(o.pipeline, ctx);
    return {
      apply(x, rng) {
        const view = runPipeline(pipe, x, rng);
        const [n, h, w] = view.shape;
        if (h % o.patchSize !== 0 || w % o.patchSize !== 0)
          throw new Error(`mask-patches: patch size ${o.patchSize} does not divide the ${h}x${w} views; use the encoder's patch size`);
        const t = (h / o.patchSize) * (w / o.patchSize);
        const k = Math.max(1, Math.floor(t * (1 - o.ratio)));
        const { keep, masked } = drawMasks(n, t, k, rng);
        return { views: [view], keep: [tf.tensor2d(keep, [n, k], 'int32')], supervision: { image: view, patchMask: tf.tensor2d(masked, [n, t]) } };
      },
    };
  },
});

/** Per sample, `k` of `t` patch indices kept (ascending, uniformly random), and the `[n, t]` mask of the others. */
export function drawMasks(n: number, t: number, k: number, rng: Rng): { keep: Int32Array; masked: Float32Array } {
  const keep = new Int32Array(n * k);
  const masked = new Float32Array(n * t).fill(1);
  const order = new Int32Array(t);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < t; i++) order[i] = i;
    for (let i = 0; i < k; i++) {
      const j = i + rng.int(t - i); // a partial Fisher-Yates shuffle: the first k are a uniform sample
      [order[i], order[j]] = [order[j], order[i]];
    }
    const kept = order.slice(0, k).sort();
    keep.set(kept, b * k);
    for (const i of kept) masked[b * t + i] = 0;
  }
  return { keep, masked };
}
