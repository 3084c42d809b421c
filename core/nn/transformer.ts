import { tf, type Tensor, type Tensor2D, type Tensor3D, type Tensor4D, type Variable } from '../engine/tf.js';
import { Dense } from './layers.js';
import { GELU, GELU_GRAD } from '../engine/simd/gelu.js';
import { LAYER_NORM, LAYER_NORM_GRAD } from '../engine/layer-norm-kernels.js';
import { channelSum, constant, truncNormal, type ParamStore } from './params.js';

/**
 * The layers of a pre-norm Vision Transformer (Dosovitskiy et al. 2021) on `[N, T, D]` token
 * sequences, as timm's `VisionTransformer` builds them: LayerNorm, multi-head self-attention with a
 * fused qkv projection, and an MLP with GELU. Linear weights start as N(0, 0.02²) truncated, biases
 * at 0, LayerNorm at (1, 0). Parameter names follow timm (`norm1`, `attn.qkv`, `mlp.fc1`, ...).
 */

/**
 * GELU, the exact form: `x·Φ(x) = 0.5·x·(1 + erf(x/√2))` (PyTorch's `nn.GELU()` default), with the
 * closed-form gradient `Φ(x) + x·φ(x)`: the backward pass keeps only x and recomputes Φ(x) (the
 * autodiff of the composition keeps five tensors of the MLP's hidden size). Where the backend has
 * the `SelfsupGelu` kernels (wasm: selfsup's SIMD ones) and the size is a multiple of 4, forward and
 * backward are one kernel each.
 */
export function gelu(x: Tensor): Tensor {
  return x.size % 4 === 0 && tf.getKernel(GELU, tf.getBackend()) && tf.getKernel(GELU_GRAD, tf.getBackend()) ? kernelGelu(x) : composedGelu(x);
}

const composedGelu = tf.customGrad(((x: Tensor, save: (ts: Tensor[]) => void) => {
  save([x]);
  return {
    value: tf.mul(x, normalCdf(x)),
    gradFunc: (dy: Tensor | Tensor[], [xs]: Tensor[]) => [
      tf.mul(dy as Tensor, tf.add(normalCdf(xs), tf.mul(xs, tf.mul(tf.exp(tf.mul(tf.square(xs), -0.5)), 1 / Math.sqrt(2 * Math.PI))))),
    ],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: Tensor) => Tensor;

/** GELU through the backend's `SelfsupGelu` kernels (selfsup's SIMD ones on wasm) */
const kernelGelu = tf.customGrad(((x: Tensor, save: (ts: Tensor[]) => void) => {
  save([x]);
  return {
    value: tf.engine().runKernel(GELU, { x }) as Tensor,
    gradFunc: (dy: Tensor | Tensor[], [xs]: Tensor[]) => [tf.engine().runKernel(GELU_GRAD, { x: xs, dy: dy as Tensor }) as Tensor],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: Tensor) => Tensor;

/** Φ(x) = 0.5·(1 + erf(x/√2)), the standard normal CDF */
const normalCdf = (x: Tensor) => tf.mul(tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))), 0.5);

/** Layer normalisation over the last axis, with a learned scale and shift (no weight decay). */
export class LayerNorm {
  readonly weight: Variable;
  readonly bias: Variable;

  constructor(
    store: ParamStore,
    name: string,
    dim: number,
    private readonly eps = 1e-6,
  ) {
    this.weight = store.add(`${name}.weight`, [dim], { init: constant(1), decay: false });
    this.bias = store.add(`${name}.bias`, [dim], { init: constant(0), decay: false });
  }

  apply<T extends Tensor>(x: T): T {
    return layerNorm(x, this.weight, this.bias, this.eps) as T;
  }
}

/**
 * `(x - mean) / sqrt(var + eps) · weight + bias` over the last axis, with the closed-form gradient
 * (`dx = rstd · (g - mean(g) - x̂ · mean(g · x̂))`, `g = dy · weight`): 11 ops backward where the
 * autodiff of the moments takes about 25.
 */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps: number): Tensor {
  const backend = tf.getBackend();
  if (x.size > 0 && tf.getKernel(LAYER_NORM, backend) && tf.getKernel(LAYER_NORM_GRAD, backend)) return kernelLayerNorm(x, weight, bias, eps);
  const shape = x.shape;
  const d = shape[shape.length - 1];
  const m = x.size / d;
  const op = tf.customGrad(((xIn: Tensor, w: Tensor, b: Tensor, save: (ts: Tensor[]) => void) => {
    const x2 = tf.reshape(xIn, [m, d]);
    const xc = tf.sub(x2, tf.mean(x2, 1, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), 1, true), eps));
    const xhat = tf.mul(xc, rstd);
    save([xhat, rstd, w]);
    return {
      value: tf.reshape(tf.add(tf.mul(xhat, w), b), shape),
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const [xh, rs, ww] = saved;
        const g0 = tf.reshape(dy as Tensor, [m, d]);
        const g = tf.mul(g0, ww);
        const dx = tf.mul(tf.sub(tf.sub(g, tf.mean(g, 1, true)), tf.mul(xh, tf.mean(tf.mul(g, xh), 1, true))), rs);
        return [tf.reshape(dx, shape), channelSum(tf.mul(g0, xh)), channelSum(g0)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, weight, bias);
}

/** `layerNorm` through the backend's `SelfsupLayerNorm` kernels (core/engine/layer-norm-kernels.ts): one pass forward, one backward. */
function kernelLayerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps: number): Tensor {
  const op = tf.customGrad(((xIn: Tensor, w: Tensor, b: Tensor, save: (ts: Tensor[]) => void) => {
    const [y, mean, rstd] = tf.engine().runKernel(LAYER_NORM, { x: xIn, weight: w, bias: b }, { eps } as never) as Tensor[];
    save([xIn, mean, rstd, w]);
    return {
      value: y,
      gradFunc: (dy: Tensor | Tensor[], [xs, mu, rs, ws]: Tensor[]) =>
        tf.engine().runKernel(LAYER_NORM_GRAD, { dy: dy as Tensor, x: xs, mean: mu, rstd: rs, weight: ws }) as Tensor[],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, weight, bias);
}

/** A dense layer applied to every token: `[N, T, in] -> [N, T, out]`. */
export function tokenwise(layer: Dense, x: Tensor3D): Tensor3D {
  const [n, t, d] = x.shape;
  const y = layer.apply(tf.reshape(x, [n * t, d]) as Tensor2D);
  return tf.reshape(y, [n, t, y.shape[1]]) as Tensor3D;
}

/** Multi-head self-attention: `[N, T, D] -> [N, T, D]`, and the attention weights `[N, heads, T, T]`. */
export class Attention {
  private readonly qkv: Dense;
  private readonly proj: Dense;

  constructor(
    store: ParamStore,
    name: string,
    private readonly dim: number,
    private readonly heads: number,
  ) {
    if (dim % heads !== 0) throw new Error(`width ${dim} is not divisible by ${heads} heads`);
    const init = truncNormal(0.02);
    this.qkv = new Dense(store, `${name}.qkv`, { inFeatures: dim, outFeatures: 3 * dim, init });
    this.proj = new Dense(store, `${name}.proj`, { inFeatures: dim, outFeatures: dim, init });
  }

  apply(x: Tensor3D): { out: Tensor3D; attention: Tensor4D } {
    const [n, t] = x.shape;
    const h = this.heads;
    const d = this.dim / h;
    // [N, T, 3D] -> q, k, v as [N, heads, T, d]
    const qkv = tokenwise(this.qkv, x);
    // three slices rather than tf.split: tfjs-backend-wasm's SplitV took 25 ms for [2080, 576] (ViT-tiny, batch 32)
    const [q, k, v] = [0, 1, 2].map(
      (i) => tf.transpose(tf.reshape(tf.slice(qkv, [0, 0, i * this.dim], [n, t, this.dim]), [n, t, h, d]), [0, 2, 1, 3]) as Tensor4D,
    );
    const attention = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d))) as Tensor4D;
    const mixed = tf.reshape(tf.transpose(tf.matMul(attention, v), [0, 2, 1, 3]), [n, t, this.dim]) as Tensor3D;
    return { out: tokenwise(this.proj, mixed), attention };
  }
}

/** A pre-norm transformer block: `x + attn(norm1(x))`, then `x + mlp(norm2(x))` with a GELU MLP of `mlpRatio·D` hidden units. */
export class TransformerBlock {
  private readonly norm1: LayerNorm;
  private readonly attn: Attention;
  private readonly norm2: LayerNorm;
  private readonly fc1: Dense;
  private readonly fc2: Dense;

  constructor(store: ParamStore, name: string, o: { dim: number; heads: number; mlpRatio: number; eps?: number }) {
    const init = truncNormal(0.02);
    const hidden = Math.round(o.dim * o.mlpRatio);
    this.norm1 = new LayerNorm(store, `${name}.norm1`, o.dim, o.eps);
    this.attn = new Attention(store, `${name}.attn`, o.dim, o.heads);
    this.norm2 = new LayerNorm(store, `${name}.norm2`, o.dim, o.eps);
    this.fc1 = new Dense(store, `${name}.mlp.fc1`, { inFeatures: o.dim, outFeatures: hidden, init });
    this.fc2 = new Dense(store, `${name}.mlp.fc2`, { inFeatures: hidden, outFeatures: o.dim, init });
  }

  apply(x: Tensor3D): { out: Tensor3D; attention: Tensor4D } {
    const { out, attention } = this.attn.apply(this.norm1.apply(x));
    const y = tf.add(x, out) as Tensor3D;
    const mlp = tokenwise(this.fc2, gelu(tokenwise(this.fc1, this.norm2.apply(y))) as Tensor3D);
    return { out: tf.add(y, mlp) as Tensor3D, attention };
  }
}

/**
 * The tokens at `index` of each sequence: `x [N, T, D]`, `index [N, K]` int32 -> `[N, K, D]`.
 * A product with one-hot rows rather than a gather, so its gradient is a matrix product on every
 * backend (tfjs's gather gradient needs UnsortedSegmentSum, which the wasm backend lacks).
 */
export function selectTokens(x: Tensor3D, index: Tensor2D): Tensor3D {
  const pick = tf.oneHot(tf.cast(index, 'int32') as Tensor2D, x.shape[1]) as Tensor3D; // [N, K, T]
  return tf.matMul(tf.cast(pick, 'float32'), x) as Tensor3D;
}

/**
 * The `[out, in]` matrix of PyTorch's bicubic resampling along one axis (`F.interpolate(mode="bicubic",
 * align_corners=False)`, A = -0.75, edge samples repeated): `y = M·x`. Rows sum to 1.
 */
export function bicubicMatrix(inSize: number, outSize: number): Float32Array {
  const A = -0.75;
  const cubic = (t: number) => {
    const a = Math.abs(t);
    if (a <= 1) return ((A + 2) * a - (A + 3)) * a * a + 1;
    if (a < 2) return ((A * a - 5 * A) * a + 8 * A) * a - 4 * A;
    return 0;
  };
  const m = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = (o + 0.5) * scale - 0.5;
    const f = Math.floor(src);
    const t = src - f;
    for (let k = -1; k <= 2; k++) {
      const i = Math.min(inSize - 1, Math.max(0, f + k));
      m[o * inSize + i] += cubic(t - k);
    }
  }
  return m;
}

/**
 * Position embeddings of a `from` grid resampled to a `to` grid, bicubic in each axis (DINO's
 * `interpolate_pos_encoding`): `pos [from.h·from.w, D] -> [to.h·to.w, D]`, as one matrix product
 * (the Kronecker product of the two axes' matrices), so the gradient reaches the learned table.
 */
export function interpolationMatrix(from: [number, number], to: [number, number]): Tensor2D {
  const mh = bicubicMatrix(from[0], to[0]);
  const mw = bicubicMatrix(from[1], to[1]);
  const rows = to[0] * to[1];
  const cols = from[0] * from[1];
  const k = new Float32Array(rows * cols);
  for (let oy = 0; oy < to[0]; oy++)
    for (let ox = 0; ox < to[1]; ox++)
      for (let iy = 0; iy < from[0]; iy++) {
        const wy = mh[oy * from[0] + iy];
        if (wy === 0) continue;
        for (let ix = 0; ix < from[1]; ix++) k[(oy * to[1] + ox) * cols + iy * from[1] + ix] = wy * mw[ox * from[1] + ix];
      }
  return tf.tensor2d(k, [rows, cols]);
}
