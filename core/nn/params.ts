import { tf, type Tensor, type Variable } from '../engine/tf.js';
import type { Rng } from '../rng.js';

/** How a parameter is treated by optimizers and by the momentum (EMA) target. */
export interface ParamInfo {
  /** updated by the optimizer (false: buffers such as batch-norm running statistics) */
  trainable: boolean;
  /** weight decay / LARS adaptation applies (false for biases and batch-norm affine parameters, as in SimCLR) */
  decay: boolean;
}

export interface Param extends ParamInfo {
  name: string;
  variable: Variable;
}

/**
 * The named variables of one module (encoder, head, ...). Names are stable paths (`conv1.weight`),
 * so a copy built from the same options lines up parameter for parameter: that is how the momentum
 * target clones a module and how checkpoints store it.
 *
 * @example
 * const p = new ParamStore('enc', rng);
 * const w = p.add('conv1.weight', [3, 3, 1, 32], { init: kaimingUniform(9) });
 */
export class ParamStore {
  private static instances = 0;
  private readonly params = new Map<string, Param>();
  /** tfjs variable names are global: each store gets its own prefix */
  private readonly uid: string;
  readonly scope: string;
  private readonly rng?: Rng;

  /** `scope` prefixes every variable name (made unique per instance); `rng` draws initial values */
  constructor(scope: string, rng?: Rng) {
    this.scope = scope;
    this.rng = rng;
    this.uid = `${scope}#${ParamStore.instances++}`;
  }

  /** Create a parameter. `init` draws each value from the store's RNG (deterministic per seed). */
  add(name: string, shape: number[], opts: { init: Initializer; trainable?: boolean; decay?: boolean }): Variable {
    if (this.params.has(name)) throw new Error(`parameter '${name}' defined twice in ${this.scope}`);
    const size = shape.reduce((a, b) => a * b, 1);
    const values = opts.init(size, this.rng);
    const trainable = opts.trainable ?? true;
    // in a tidy: tf.variable shares its initial tensor's data and does not dispose it
    const variable = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), trainable, `${this.uid}/${name}`));
    this.params.set(name, { name, variable, trainable, decay: opts.decay ?? trainable });
    return variable;
  }

  /**
   * Take the parameters of `other` into this store as `<prefix>/<name>` (the same variables, not
   * copies): a module made of other modules (a `sequence` head) exposes them all as its own.
   */
  include(prefix: string, other: ParamStore): void {
    for (const p of other.list()) {
      const name = `${prefix}/${p.name}`;
      if (this.params.has(name)) throw new Error(`parameter '${name}' defined twice in ${this.scope}`);
      this.params.set(name, { ...p, name });
    }
  }

  get(name: string): Param | undefined {
    return this.params.get(name);
  }

  list(): Param[] {
    return [...this.params.values()];
  }

  trainable(): Param[] {
    return this.list().filter((p) => p.trainable);
  }

  /** number of trainable scalars */
  count(): number {
    return this.trainable().reduce((n, p) => n + p.variable.size, 0);
  }

  /** Copy every value of `other` (same names and shapes) into this store. */
  copyFrom(other: ParamStore): void {
    for (const p of this.params.values()) {
      const src = other.get(p.name);
      if (!src) throw new Error(`cannot copy ${this.scope}: '${p.name}' missing in ${other.scope}`);
      p.variable.assign(src.variable);
    }
  }

  dispose(): void {
    for (const p of this.params.values()) p.variable.dispose();
    this.params.clear();
  }
}

/** Fills `size` initial values. */
export type Initializer = (size: number, rng?: Rng) => Float32Array;

const needRng = (rng?: Rng): Rng => {
  if (!rng) throw new Error('this initializer needs the store to have an RNG');
  return rng;
};

/** Kaiming-uniform with a=sqrt(5), PyTorch's default for Conv2d and Linear weights: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
export const kaimingUniform =
  (fanIn: number): Initializer =>
  (size, rng) => {
    const r = needRng(rng);
    const b = 1 / Math.sqrt(fanIn);
    return r.fill(size, (g) => g.uniform(-b, b));
  };

/** Kaiming-normal (fan_out, ReLU), torchvision ResNet's conv init: N(0, 2/fanOut). */
export const kaimingNormalFanOut =
  (fanOut: number): Initializer =>
  (size, rng) => {
    const r = needRng(rng);
    const s = Math.sqrt(2 / fanOut);
    return r.fill(size, (g) => g.normal() * s);
  };

export const constant =
  (value: number): Initializer =>
  (size) =>
    new Float32Array(size).fill(value);

/** Sum over the leading axes of a channels-last tensor as ones[1,M] @ X[M,C]: wasm reduces leading axes by transposing the whole tensor first. */
export function channelSum(x: Tensor): Tensor {
  const c = x.shape[x.rank - 1];
  const m = x.size / c;
  return tf.reshape(tf.matMul(tf.ones([1, m]), tf.reshape(x, [m, c])), [c]);
}

/**
 * Normal N(0, std²) truncated to [-bound, bound] by redrawing: PyTorch's and timm's
 * `trunc_normal_(std=std)`, whose bounds (a = -2, b = 2) are absolute values, not multiples of std.
 * At ViT's std 0.02 that is 100 standard deviations: in effect untruncated (the sample std is 0.02;
 * a ±2·std truncation would give 0.0176).
 */
export const truncNormal =
  (std: number, bound = 2): Initializer =>
  (size, rng) => {
    const r = needRng(rng);
    return r.fill(size, (g) => {
      for (;;) {
        const v = g.normal() * std;
        if (Math.abs(v) <= bound) return v;
      }
    });
  };
