import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.js';
import type { BufferPool } from './pool.js';

/** What the native kernels need of the tfjs-backend-cpu instance they run on: its tensors are plain typed arrays. */
export interface CpuLikeBackend {
  data: { get(id: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): TensorInfo;
}

export const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A float32 tensor's values, shared (no copy); undefined for other dtypes or layouts the kernels do not take. */
export function f32(backend: unknown, t: TensorInfo): Float32Array | undefined {
  if (t.dtype !== 'float32') return undefined;
  const v = (backend as CpuLikeBackend).data.get(t.dataId).values;
  return v instanceof Float32Array && v.length === sizeOf(t.shape) ? v : undefined;
}

/**
 * A new float32 tensor of `shape` on the backend, its values written by `fill`, which must write
 * every element: the buffer comes from the backend's pool (pool.ts) with stale contents.
 */
export function output(backend: unknown, shape: number[], fill: (out: Float32Array) => void): TensorInfo {
  const pool = (backend as { pool?: BufferPool }).pool;
  const out = pool ? pool.take(sizeOf(shape)) : new Float32Array(sizeOf(shape));
  fill(out);
  return (backend as CpuLikeBackend).makeTensorInfo(shape, 'float32', out);
}

/**
 * A native kernel with the cpu backend's as fallback: `run` returns undefined for what it does not
 * take (another dtype, a broadcast it has no loop for), and the stock kernel runs instead.
 */
export function withFallback(
  kernelName: string,
  backendName: string,
  stock: KernelConfig | undefined,
  run: (args: Parameters<KernelFunc>[0]) => TensorInfo | TensorInfo[] | undefined,
): KernelConfig {
  return {
    kernelName,
    backendName,
    kernelFunc: (args) => {
      const r = run(args);
      if (r !== undefined) return r;
      if (!stock) throw new Error(`${kernelName}: the native kernel does not take these inputs and the backend has no other`);
      return stock.kernelFunc(args);
    },
  };
}

export type NativeKernelFactory = (backendName: string, addon: NativeAddon, stock: (name: string) => KernelConfig | undefined) => KernelConfig[];
