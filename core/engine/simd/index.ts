import type { KernelConfig } from '@tensorflow/tfjs-core';
import { tf } from '../tf.js';
import { SimdKernelModule } from './kernel-module.js';
import { conv2dBackpropFilterSimd } from './conv2d-backprop-filter.js';
import { batchNormTrainGradSimd, batchNormTrainSimd } from './batch-norm.js';
import { conv2dBackpropInputSimd } from './conv2d-backprop-input.js';
import { reverseSimd } from './reverse.js';
import { sliceSimd } from './slice.js';
import { conv2dSimd } from './conv2d.js';
import { batchMatMulSimd } from './batch-mat-mul.js';
import { geluGradSimd, geluSimd } from './gelu.js';
import { batchMatMulUntransposed } from '../kernels/batch-mat-mul.js';

export { SimdKernelModule } from './kernel-module.js';
export { KERNELS_SOURCE_SHA256 } from './kernels-binary.js';
export { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, type BatchNormTrainAttrs } from './batch-norm.js';
export { GELU, GELU_GRAD } from './gelu.js';

interface Attached {
  module: SimdKernelModule;
  /** the backend's own kernels the SIMD ones fall back to (captured before the first registration) */
  stock: { Reverse?: KernelConfig; Slice?: KernelConfig; Conv2D?: KernelConfig; BatchMatMul?: KernelConfig };
}
const attached = new WeakMap<object, Attached>();

/**
 * Attach selfsup's SIMD kernels to the active tfjs-backend-wasm backend `backendName` and register
 * them, replacing the backend's (or selfsup's composite) kernels of the same names. Returns the
 * module (its `threads`) and the names registered. One module (and one set of worker threads) per
 * backend instance, however often the backend is selected.
 */
export async function registerSimdKernels(backendName: string, threads: number): Promise<{ module: SimdKernelModule; kernels: string[] }> {
  const backend = tf.findBackend(backendName) as object;
  let a = attached.get(backend);
  if (!a || a.module.threads !== threads) {
    await a?.module.close();
    const stock = a?.stock ?? {
      Reverse: tf.getKernel('Reverse', backendName),
      Slice: tf.getKernel('Slice', backendName),
      Conv2D: tf.getKernel('Conv2D', backendName),
      BatchMatMul: tf.getKernel('BatchMatMul', backendName),
    };
    a = { module: await SimdKernelModule.attach(backend, threads), stock };
    attached.set(backend, a);
  }
  const { module, stock } = a;
  const configs = [
    ...(process.env.SELFSUP_SIMD_CONV2D === '0' ? [] : [conv2dSimd(backendName, module, stock.Conv2D)]),
    conv2dBackpropFilterSimd(backendName, module),
    conv2dBackpropInputSimd(backendName, module),
    batchNormTrainSimd(backendName, module),
    batchNormTrainGradSimd(backendName, module),
    geluSimd(backendName, module),
    geluGradSimd(backendName, module),
    reverseSimd(backendName, module, stock.Reverse),
    sliceSimd(backendName, module, stock.Slice),
    // transposed operands made plain by the backend's Transpose, then multiplied by the SIMD kernel
    ...(process.env.SELFSUP_SIMD_MATMUL === '0' || !stock.BatchMatMul
      ? []
      : [batchMatMulUntransposed(backendName, batchMatMulSimd(backendName, module, stock.BatchMatMul))]),
  ];
  for (const c of configs) {
    if (tf.getKernel(c.kernelName, backendName)) tf.unregisterKernel(c.kernelName, backendName);
    tf.registerKernel(c);
  }
  return { module, kernels: configs.map((c) => c.kernelName) };
}
