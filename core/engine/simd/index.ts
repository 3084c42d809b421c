import { tf } from '../tf.js';
import { SimdKernelModule } from './kernel-module.js';
import { conv2dBackpropFilterSimd } from './conv2d-backprop-filter.js';
import { batchNormTrainGradSimd, batchNormTrainSimd } from './batch-norm.js';
import { conv2dBackpropInputSimd } from './conv2d-backprop-input.js';
import { reverseSimd } from './reverse.js';
import { sliceSimd } from './slice.js';

export { SimdKernelModule } from './kernel-module.js';
export { KERNELS_SOURCE_SHA256 } from './kernels-binary.js';
export { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, type BatchNormTrainAttrs } from './batch-norm.js';

/**
 * Attach selfsup's SIMD kernels to the active tfjs-backend-wasm backend `backendName` and register
 * them, replacing the backend's (or selfsup's composite) kernels of the same names. Returns the
 * module (its `threads`) and the names registered.
 */
export async function registerSimdKernels(backendName: string, threads: number): Promise<{ module: SimdKernelModule; kernels: string[] }> {
  const module = await SimdKernelModule.attach(tf.findBackend(backendName) as object, threads);
  const configs = [
    conv2dBackpropFilterSimd(backendName, module),
    conv2dBackpropInputSimd(backendName, module),
    batchNormTrainSimd(backendName, module),
    batchNormTrainGradSimd(backendName, module),
    reverseSimd(backendName, module, tf.getKernel('Reverse', backendName)),
    sliceSimd(backendName, module, tf.getKernel('Slice', backendName)),
  ];
  for (const c of configs) {
    if (tf.getKernel(c.kernelName, backendName)) tf.unregisterKernel(c.kernelName, backendName);
    tf.registerKernel(c);
  }
  return { module, kernels: configs.map((c) => c.kernelName) };
}
