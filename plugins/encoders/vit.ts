import { Type } from '@sinclair/typebox';
import {
  Conv2d,
  LayerNorm,
  ParamStore,
  TransformerBlock,
  definePlugin,
  interpolationMatrix,
  selectTokens,
  tf,
  truncNormal,
  type EncoderOutput,
  type Tensor2D,
  type Tensor3D,
  type Tensor4D,
} from '../../core/index.js';

/** The standard sizes (Touvron et al. 2021, DeiT): width, depth, heads. */
export const VIT_SIZES = { tiny: { dim: 192, depth: 12, heads: 3 }, small: { dim: 384, depth: 12, heads: 6 } } as const;

/**
 * Vision Transformer (Dosovitskiy et al. 2021), pre-norm as timm's and DINO's: a patch embedding
 * (a `patchSize` convolution with stride `patchSize`), a `cls` token, learned position embeddings,
 * `depth` blocks of multi-head self-attention and a GELU MLP, and a final LayerNorm.
 *
 * - Outputs: `h` (the `cls` token, or the mean of the patch tokens with `pool: "mean"`), `tokens`
 *   `[N, 1+T, D]` (cls first), `attention` (the last block's weights `[N, heads, 1+T, 1+T]`: DINO's
 *   picture), `map` (the patch tokens as a grid `[N, H/p, W/p, D]`, for dense heads), and with a
 *   `keep` the kept indices themselves (`keep`, `[N, K]`: MAE's decoder puts the tokens back in order).
 * - Crops of another size (DINO's local crops) get the position table resampled bicubically to
 *   their grid, as DINO's `interpolate_pos_encoding`.
 * - It drops tokens (`EncoderInputs.keep`, MAE): only the kept patches, after their positions are
 *   added, go through the blocks with the `cls` token.
 *
 * Parameters: ViT-tiny with patch 4 on 32x32x3 has 5,360,832, as the same model in PyTorch.
 *
 * @example { "type": "vit", "size": "tiny", "patchSize": 4 }
 */
export default definePlugin({
  kind: 'encoder',
  name: 'vit',
  description: 'Vision Transformer: patch embedding, cls token, position embeddings, pre-norm attention blocks',
  reference: 'Dosovitskiy et al. 2021; sizes from DeiT (tiny 192/12/3, small 384/12/6)',
  dropsTokens: true,
  options: Type.Object({
    size: Type.Union([Type.Literal('tiny'), Type.Literal('small')], { default: 'tiny', description: 'tiny: 192 wide, 12 deep, 3 heads; small: 384/12/6' }),
    patchSize: Type.Integer({ minimum: 1, default: 4, description: 'side of a square patch in pixels; must divide the image side (4 for 28x28 and 32x32)' }),
    dim: Type.Optional(Type.Integer({ minimum: 1, description: "width (overrides the size's)" })),
    depth: Type.Optional(Type.Integer({ minimum: 1, description: "blocks (overrides the size's)" })),
    heads: Type.Optional(Type.Integer({ minimum: 1, description: "attention heads (overrides the size's); must divide the width" })),
    mlpRatio: Type.Number({ exclusiveMinimum: 0, default: 4, description: 'MLP hidden width as a multiple of the width' }),
    pool: Type.Union([Type.Literal('cls'), Type.Literal('mean')], { default: 'cls', description: 'h: the cls token, or the mean of the patch tokens' }),
    eps: Type.Number({ exclusiveMinimum: 0, default: 1e-6, description: "LayerNorm epsilon (timm's 1e-6)" }),
  }),
  create(o, ctx) {
    const size = VIT_SIZES[o.size];
    const dim = o.dim ?? size.dim;
    const depth = o.depth ?? size.depth;
    const heads = o.heads ?? size.heads;
    if (dim % heads !== 0) throw new Error(`vit: width ${dim} is not divisible by ${heads} heads`);
    const ds = ctx.dataset;
    const channels = ds?.channels ?? 3;
    const p = o.patchSize;
    const gridOf = (h: number, w: number, what: string): [number, number] => {
      if (h % p !== 0 || w % p !== 0) throw new Error(`vit: patch size ${p} does not divide the ${h}x${w} ${what}; use a patch size that divides both sides`);
      return [h / p, w / p];
    };
    const grid = ds ? gridOf(ds.height, ds.width, 'images') : ([32 / p, 32 / p] as [number, number]);
    const tokens = grid[0] * grid[1];

    const params = new ParamStore('vit', ctx.rng);
    const patch = new Conv2d(params, 'patch', { inChannels: channels, outChannels: dim, kernel: p, stride: p, padding: 0, bias: true });
    const cls = params.add('cls', [1, 1, dim], { init: truncNormal(0.02), decay: false });
    const pos = params.add('pos', [1, 1 + tokens, dim], { init: truncNormal(0.02), decay: false });
    const blocks = Array.from({ length: depth }, (_, i) => new TransformerBlock(params, `blocks.${i}`, { dim, heads, mlpRatio: o.mlpRatio, eps: o.eps }));
    const norm = new LayerNorm(params, 'norm', dim, o.eps);
    // resampling matrices of the position table to other grids, made once per grid
    const resample = new Map<string, Tensor2D>();
    const patchPositions = (g: [number, number]): Tensor2D => {
      const table = tf.reshape(tf.slice(pos, [0, 1, 0], [1, tokens, dim]), [tokens, dim]) as Tensor2D;
      if (g[0] === grid[0] && g[1] === grid[1]) return table;
      const key = g.join('x');
      let m = resample.get(key);
      if (!m) resample.set(key, (m = tf.keep(interpolationMatrix(grid, g))));
      return tf.matMul(m, table);
    };

    return {
      params,
      dim,
      forward(x, _training, inputs) {
        const [n, h, w] = x.shape;
        const g = gridOf(h, w, 'input');
        const t = g[0] * g[1];
        let seq = tf.add(tf.reshape(patch.apply(x), [n, t, dim]), patchPositions(g)) as Tensor3D;
        const keep = inputs?.keep;
        if (keep) seq = selectTokens(seq, keep);
        const first = tf.tile(tf.add(cls, tf.slice(pos, [0, 0, 0], [1, 1, dim])), [n, 1, 1]);
        seq = tf.concat([first, seq], 1) as Tensor3D;
        let attention: Tensor4D | undefined;
        // each block in its own scope: what its backward pass does not need is freed at once, not when the step ends
        for (const b of blocks) ({ out: seq, attention } = tf.tidy(() => b.apply(seq)));
        const out = norm.apply(seq);
        const patches = () => tf.slice(out, [0, 1, 0], [n, out.shape[1] - 1, dim]);
        const hOut = (o.pool === 'cls' ? tf.reshape(tf.slice(out, [0, 0, 0], [n, 1, dim]), [n, dim]) : tf.mean(patches(), 1)) as Tensor2D;
        const result = { h: hOut, tokens: out, attention: attention! } as unknown as EncoderOutput;
        // with dropped tokens there is no patch grid: no `map` (a head that reads it is told what there is), and `keep` instead
        if (keep) return Object.assign(result, { keep }) as EncoderOutput;
        let map: Tensor4D | undefined;
        Object.defineProperty(result, 'map', { enumerable: true, get: () => (map ??= tf.reshape(patches(), [n, g[0], g[1], dim]) as Tensor4D) });
        return result;
      },
    };
  },
});
