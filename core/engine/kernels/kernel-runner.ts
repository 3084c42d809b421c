import { tf } from '../tf.js';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

/** The attributes tfjs passes to the Conv2D gradient kernels. */
export interface ConvGradAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

type Shape4 = [number, number, number, number];

/**
 * The geometry of a 2-D convolution (x `[B, H, W, CI]`, filter `[KH, KW, CI, CO]`) from the
 * attributes of Conv2D or its gradient kernels (which have no dilations: 1); NHWC only.
 */
export function conv2dInfo(
  kernel: string,
  xShape: number[],
  filterShape: number[],
  attrs: ConvGradAttrs,
  dilations: number | [number, number] = 1,
): tf.backend_util.Conv2DInfo {
  if (attrs.dataFormat && attrs.dataFormat !== 'NHWC') throw new Error(`${kernel}: only NHWC is supported`);
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    attrs.strides,
    dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** What a composite kernel needs of a backend beyond its kernels (tfjs-backend-wasm and -cpu both have these). */
interface RawBackend {
  readSync(id: object): Float32Array;
  write(values: Float32Array, shape: number[], dtype: string): object;
  disposeData(id: object): void;
}

/**
 * Runs other kernels of one backend inside a composite kernel, tracking the intermediate results
 * so that `finish` frees them all: `run` for intermediates, `output` for the kernel's result.
 */
export class KernelRunner {
  private readonly temps: TensorInfo[] = [];
  readonly raw: RawBackend;

  constructor(
    private readonly backendName: string,
    private readonly backend: object,
  ) {
    this.raw = backend as unknown as RawBackend;
  }

  private kernel(name: string): KernelFunc {
    const k = tf.getKernel(name, this.backendName);
    if (!k) throw new Error(`backend '${this.backendName}' has no ${name} kernel`);
    return k.kernelFunc;
  }

  /** the result of another kernel, kept until `finish` */
  run(name: string, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: Record<string, unknown> = {}): TensorInfo {
    const out = this.output(name, inputs, attrs);
    this.temps.push(out);
    return out;
  }

  /** the result of another kernel that the composite kernel returns (not freed) */
  output(name: string, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: Record<string, unknown> = {}): TensorInfo {
    return this.kernel(name)({ inputs: inputs as never, backend: this.backend as never, attrs: attrs as NamedAttrMap }) as TensorInfo;
  }

  /** a float32 constant on the backend, kept until `finish` */
  upload(shape: number[], values: Float32Array): TensorInfo {
    const t: TensorInfo = { dataId: this.raw.write(values, shape, 'float32'), shape, dtype: 'float32' };
    this.temps.push(t);
    return t;
  }

  /** free every intermediate and return `result` */
  finish(result: TensorInfo): TensorInfo {
    for (const t of this.temps) this.raw.disposeData(t.dataId);
    return result;
  }
}
