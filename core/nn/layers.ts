import { tf, type Tensor, type Tensor2D, type Tensor4D, type Variable } from '../engine/tf.js';
import { ParamStore, channelSum, constant, kaimingNormalFanOut, kaimingUniform, type Initializer } from './params.js';

export interface Conv2dOptions {
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride?: number;
  /** symmetric zero padding in pixels (PyTorch convention); default kernel >> 1 */
  padding?: number;
  bias?: boolean;
  /** 'torch-default' (kaiming-uniform a=sqrt(5)) or 'kaiming-fan-out' (torchvision ResNet) */
  init?: 'torch-default' | 'kaiming-fan-out';
}

/** 2-D convolution, channels-last: `[N, H, W, Cin] -> [N, H', W', Cout]`, filter `[k, k, Cin, Cout]`. */
export class Conv2d {
  readonly weight: Variable;
  readonly bias?: Variable;
  private readonly stride: number;
  private readonly pad: [[number, number], [number, number], [number, number], [number, number]];

  constructor(store: ParamStore, name: string, o: Conv2dOptions) {
    const fanIn = o.kernel * o.kernel * o.inChannels;
    const init = o.init === 'kaiming-fan-out' ? kaimingNormalFanOut(o.kernel * o.kernel * o.outChannels) : kaimingUniform(fanIn);
    this.weight = store.add(`${name}.weight`, [o.kernel, o.kernel, o.inChannels, o.outChannels], { init });
    if (o.bias) this.bias = store.add(`${name}.bias`, [o.outChannels], { init: kaimingUniform(fanIn), decay: false });
    this.stride = o.stride ?? 1;
    const p = o.padding ?? o.kernel >> 1;
    this.pad = [
      [0, 0],
      [p, p],
      [p, p],
      [0, 0],
    ];
  }

  apply(x: Tensor4D): Tensor4D {
    const y = tf.conv2d(x, this.weight as Tensor4D, this.stride, this.pad);
    return this.bias ? tf.add(y, this.bias) : y;
  }
}

/** Fully connected layer: `[N, in] -> [N, out]`, weight `[in, out]` (PyTorch's default init). */
export class Dense {
  readonly weight: Variable;
  readonly bias?: Variable;

  /** `init`: the weight's initializer (default PyTorch's kaiming-uniform, which the bias shares); with `init` the bias starts at 0 (timm's ViT) */
  constructor(store: ParamStore, name: string, o: { inFeatures: number; outFeatures: number; bias?: boolean; init?: Initializer }) {
    const init = o.init ?? kaimingUniform(o.inFeatures);
    this.weight = store.add(`${name}.weight`, [o.inFeatures, o.outFeatures], { init });
    if (o.bias ?? true) this.bias = store.add(`${name}.bias`, [o.outFeatures], { init: o.init ? constant(0) : init, decay: false });
  }

  apply(x: Tensor2D): Tensor2D {
    const y = tf.matMul(x, this.weight as Tensor2D) as Tensor2D;
    return this.bias ? (addBias(y, this.bias) as Tensor2D) : y;
  }
}

/**
 * `y + bias` over the last axis, whose bias gradient is a channel sum as a matrix product: tfjs's
 * Add gradient sums over the leading axis, which the wasm backend does by transposing the whole
 * gradient first (ViT-tiny's MLP biases: 580 ms of a 6 s SimCLR step).
 */
export const addBias: (y: Tensor, bias: Tensor) => Tensor = tf.customGrad(((y: Tensor, bias: Tensor, save: (ts: Tensor[]) => void) => {
  save([]);
  return { value: tf.add(y, bias), gradFunc: (dy: Tensor | Tensor[]) => [dy as Tensor, channelSum(dy as Tensor)] };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (y: Tensor, bias: Tensor) => Tensor;

/** `[N, H, W, C] -> [N, C]` mean over the spatial axes. */
export function globalAvgPool(x: Tensor4D): Tensor2D {
  return tf.mean(x, [1, 2]) as Tensor2D;
}

/** L2-normalise rows: `[N, D] -> [N, D]`, each row of unit norm (eps guards zero rows). */
export function l2Normalize(x: Tensor, eps = 1e-12): Tensor {
  return tf.div(x, tf.maximum(tf.norm(x, 'euclidean', -1, true), eps));
}

/** Identity forward, zero gradient: the stop-gradient (`detach`) that tfjs lacks. */
export const stopGradient = (x: Tensor): Tensor =>
  tf.customGrad(((t: Tensor, save: (ts: Tensor[]) => void) => {
    save([]);
    return { value: tf.clone(t), gradFunc: (dy: Tensor | Tensor[]) => [tf.zerosLike(dy as Tensor)] };
  }) as unknown as Parameters<typeof tf.customGrad>[0])(x);
