import os from 'node:os';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { tf } from '../tf.js';
import { loadNativeAddon, type NativeAddon } from './addon.js';
import { adamKernels } from './adam.js';
import { batchMatMulKernels } from './batch-mat-mul.js';
import { batchNormKernels } from './batch-norm.js';
import { conv2dKernels } from './conv2d.js';
import type { NativeKernelFactory } from './data.js';
import { layerNormKernels } from './layer-norm.js';
import { layoutKernels } from './layout.js';
import { BufferPool } from './pool.js';
import { pointwiseKernels } from './pointwise.js';
import { reduceKernels } from './reduce.js';

export { loadNativeAddon, type NativeAddon, type AddonLoad } from './addon.js';
export { binaryMode } from './pointwise.js';
export { BufferPool } from './pool.js';

/** The tfjs backend name of selfsup's native CPU backend. */
export const NATIVE_BACKEND = 'native';

const FACTORIES: NativeKernelFactory[] = [
  conv2dKernels,
  batchMatMulKernels,
  pointwiseKernels,
  reduceKernels,
  layoutKernels,
  batchNormKernels,
  layerNormKernels,
  adamKernels,
];

/**
 * Register the `native` tfjs backend: an instance of tfjs-backend-cpu (its tensors are plain typed
 * arrays in Node's memory, with no 4 GiB ceiling) carrying every cpu kernel, with the hot ones
 * replaced by the addon's (convolutions and matrix products on oneDNN; element-wise ops,
 * reductions, transpose, softmax, batch norm, layer norm, Adam's update as native loops on OpenMP threads). Returns the
 * kernels replaced. Idempotent; `threads` may change between calls.
 */
export async function registerNativeBackend(addon: NativeAddon, threads: number): Promise<string[]> {
  const cpu = await import('@tensorflow/tfjs-backend-cpu');
  addon.setThreads(threads);
  if (!tf.findBackendFactory(NATIVE_BACKEND)) {
    // priority 0: tfjs never picks it by itself; selfsup selects it by name
    tf.registerBackend(NATIVE_BACKEND, () => new (pooledBackendClass(cpu.MathBackendCPU))(), 0);
  }
  const stockConfigs = new Map<string, KernelConfig>();
  for (const k of tf.getKernelsForBackend('cpu')) stockConfigs.set(k.kernelName, { ...k, backendName: NATIVE_BACKEND });
  for (const k of stockConfigs.values()) {
    if (tf.getKernel(k.kernelName, NATIVE_BACKEND)) tf.unregisterKernel(k.kernelName, NATIVE_BACKEND);
    tf.registerKernel(k);
  }
  const stock = (name: string) => stockConfigs.get(name);
  const natives = FACTORIES.flatMap((f) => f(NATIVE_BACKEND, addon, stock));
  for (const k of natives) {
    if (tf.getKernel(k.kernelName, NATIVE_BACKEND)) tf.unregisterKernel(k.kernelName, NATIVE_BACKEND);
    tf.registerKernel(k);
  }
  return natives.map((k) => k.kernelName);
}

type CpuBackendClass = typeof import('@tensorflow/tfjs-backend-cpu').MathBackendCPU;
type DataId = object;

/** Idle recycled buffers kept at most: a quarter of the machine's memory, up to 4 GiB. */
const MAX_IDLE_BYTES = Math.min(4 * 2 ** 30, os.totalmem() / 4);

/**
 * tfjs-backend-cpu whose tensor data tells the buffer pool (pool.ts) when values are held, handed
 * out and let go of, so that dead outputs of the native kernels are reused at once.
 */
function pooledBackendClass(Base: CpuBackendClass) {
  return class NativeCpuBackend extends Base {
    readonly pool = new BufferPool(MAX_IDLE_BYTES);
    override write(values: Parameters<CpuBackendClass['prototype']['write']>[0], shape: number[], dtype: tf.DataType): DataId {
      const id = super.write(values, shape, dtype);
      this.pool.held(values);
      return id;
    }
    override move(dataId: DataId, values: Parameters<CpuBackendClass['prototype']['move']>[1], shape: number[], dtype: tf.DataType, refCount: number): void {
      super.move(dataId, values, shape, dtype, refCount);
      this.pool.held(values);
    }
    override readSync(dataId: DataId) {
      const v = super.readSync(dataId);
      this.pool.pin(v);
      return v;
    }
    override disposeData(dataId: DataId, force?: boolean): boolean {
      const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
      const gone = super.disposeData(dataId, force);
      if (gone && values) this.pool.released(values);
      return gone;
    }
    override dispose(): void {
      this.pool.drain();
      super.dispose();
    }
  };
}

/** Load the addon and register the backend, or say why not. */
export async function prepareNativeBackend(threads: number): Promise<{ ok: true; addon: NativeAddon; kernels: string[] } | { ok: false; reason: string }> {
  const load = loadNativeAddon();
  if (!load.ok) return load;
  const kernels = await registerNativeBackend(load.addon, threads);
  return { ok: true, addon: load.addon, kernels };
}
