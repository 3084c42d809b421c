import { Type } from '@sinclair/typebox';
import {
  Dense,
  LayerNorm,
  ParamStore,
  TransformerBlock,
  definePlugin,
  readOutputs,
  selectTokens,
  tf,
  tokenwise,
  truncNormal,
  type Tensor2D,
  type Tensor3D,
} from '../../core/index.js';

/**
 * MAE's light decoder (He et al. 2022, section 3): the encoder's tokens (the `cls` and the kept
 * patches) are projected to the decoder's width, a learned mask token fills every dropped patch,
 * the sequence is put back in patch order (the encoder's `keep` says where each kept token was),
 * position embeddings are added, and `depth` transformer blocks, a LayerNorm and a linear layer
 * give each patch's pixels. Reads `tokens` (and `keep`); `z` is `[N, T, p·p·C]` (the cls dropped),
 * row-major patches, pixels in (row, column, channel) order within a patch.
 * The patch size is the encoder's (the image side over its grid).
 *
 * @example { "type": "mae-decoder", "dim": 128, "depth": 4, "heads": 4 }
 */
export default definePlugin({
  kind: 'head',
  name: 'mae-decoder',
  description: 'MAE decoder: mask tokens, order restored, transformer blocks, per-patch pixels',
  reference: 'He et al. 2022: 8 blocks of width 512 on ViT-L; the PyTorch peer here: 4 x 128, 4 heads',
  options: Type.Object({
    dim: Type.Integer({ minimum: 1, default: 128, description: 'decoder width' }),
    depth: Type.Integer({ minimum: 1, default: 4, description: 'decoder blocks' }),
    heads: Type.Integer({ minimum: 1, default: 4, description: 'attention heads (must divide dim)' }),
    mlpRatio: Type.Number({ exclusiveMinimum: 0, default: 4, description: 'MLP hidden width as a multiple of dim' }),
  }),
  create(o, ctx) {
    const enc = ctx.encoder;
    const ds = ctx.dataset;
    if (!enc || !ds || enc.mapShape.length !== 3) throw new Error('mae-decoder needs the encoder and the dataset (a ViT encoder with a patch grid)');
    const [gh, gw, width] = enc.mapShape;
    const patch = ds.height / gh;
    if (!Number.isInteger(patch) || ds.width / gw !== patch)
      throw new Error(`mae-decoder: the encoder's ${gh}x${gw} grid does not tile the ${ds.height}x${ds.width} images into square patches`);
    const t = gh * gw;
    const out = patch * patch * ds.channels;
    const init = truncNormal(0.02);
    const params = new ParamStore('mae-decoder', ctx.rng);
    const embed = new Dense(params, 'embed', { inFeatures: width, outFeatures: o.dim, init });
    const maskToken = params.add('mask', [1, 1, o.dim], { init, decay: false });
    const pos = params.add('pos', [1, 1 + t, o.dim], { init, decay: false });
    const blocks = Array.from({ length: o.depth }, (_, i) => new TransformerBlock(params, `blocks.${i}`, { dim: o.dim, heads: o.heads, mlpRatio: o.mlpRatio }));
    const norm = new LayerNorm(params, 'norm', o.dim);
    const pred = new Dense(params, 'pred', { inFeatures: o.dim, outFeatures: out, init });
    return {
      params,
      dim: out,
      forward(input) {
        const tokens = readOutputs([input], 'tokens', 'online')[0] as Tensor3D;
        const [n, len] = tokens.shape;
        const k = len - 1;
        let seq = tokenwise(embed, tokens);
        const cls = tf.slice(seq, [0, 0, 0], [n, 1, o.dim]);
        let patches = tf.slice(seq, [0, 1, 0], [n, k, o.dim]) as Tensor3D;
        if (k < t) {
          const keep = input.keep as Tensor2D | undefined;
          if (!keep) throw new Error(`mae-decoder: the encoder gave ${k} of ${t} patch tokens but no 'keep' to put them back in order`);
          // the mask token broadcast by an Add, whose gradient is one sum: tf.tile's gradient slices and adds
          // once per repetition (n x (t - k) = 6,144 kernel pairs at batch 128, 150 ms a step)
          const masked = tf.add(tf.zeros([n, t - k, o.dim]), maskToken);
          const filled = tf.concat([patches, masked], 1) as Tensor3D;
          patches = selectTokens(filled, restoreOrderOf(keep, t));
        }
        seq = tf.add(tf.concat([cls, patches], 1), pos) as Tensor3D;
        for (const b of blocks) seq = tf.tidy(() => b.apply(seq).out);
        return tokenwise(pred, tf.slice(norm.apply(seq), [0, 1, 0], [n, t, o.dim]) as Tensor3D);
      },
    };
  },
});

/**
 * `restoreOrder` computed on the device from the `keep` tensor, with no read back (every backend,
 * WebGPU in a browser included, where a synchronous read may be wrong): for patch i, kept as token
 * j, j; dropped, k + the number of dropped patches before it (i minus the kept ones before it).
 * Same indices as `restoreOrder`, as int32 `[n, t]`.
 */
export function restoreOrderOf(keep: Tensor2D, t: number): Tensor2D {
  return tf.tidy(() => {
    const [n, k] = keep.shape;
    const hot = tf.oneHot(tf.cast(keep, 'int32'), t, 1, 0, 'float32'); // [n, k, t]: token j is patch i
    const kept = tf.sum(hot, 1); // [n, t]: 1 where patch i is kept
    // [n, t]: its token j, as sum_j j * hot[:, j, :]: a product with one row of indices (a broadcast of [1, k, 1] against [n, k, t]
    // has no native loop, and the cpu backend's took 53 ms of a 1.3 s MAE step at batch 128)
    const slot = tf.reshape(tf.matMul(tf.reshape(tf.range(0, k, 1, 'float32'), [1, 1, k]), hot), [n, t]);
    const before = new Float32Array(t * t); // [t, t]: 1 where row a < column i
    for (let a = 0; a < t; a++) for (let i = a + 1; i < t; i++) before[a * t + i] = 1;
    const keptBefore = tf.matMul(kept, tf.tensor2d(before, [t, t])); // [n, t]: kept patches before patch i
    const dropped = tf.sub(tf.add(tf.reshape(tf.range(0, t, 1, 'float32'), [1, t]), k), keptBefore);
    const order = tf.add(tf.mul(kept, slot), tf.mul(tf.sub(1, kept), dropped));
    return tf.cast(tf.reshape(order, [n, t]), 'int32') as Tensor2D;
  });
}

/**
 * Where each of `t` patches is in `[kept tokens..., mask tokens...]`: `keep [n, k]` (the kept patch
 * indices in the encoder's token order) -> `[n, t]`, kept patch `keep[j]` at `j`, the dropped ones,
 * ascending, at `k, k+1, ...`. Selecting with it restores patch order (MAE's `ids_restore`).
 */
export function restoreOrder(keep: Int32Array, n: number, k: number, t: number): Int32Array {
  const restore = new Int32Array(n * t).fill(-1);
  for (let b = 0; b < n; b++) {
    for (let j = 0; j < k; j++) restore[b * t + keep[b * k + j]] = j;
    let next = k;
    for (let i = 0; i < t; i++) if (restore[b * t + i] < 0) restore[b * t + i] = next++;
  }
  return restore;
}
