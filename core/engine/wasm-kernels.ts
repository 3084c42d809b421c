import { tf } from './tf.js';
import { registerConv2DBackpropFilter } from './kernels/conv2d-backprop-filter.js';
import { registerConv2DBackpropInput } from './kernels/conv2d-backprop-input.js';
import { registerSharedIdentity } from './kernels/identity.js';
import { registerUntransposedBatchMatMul } from './kernels/batch-mat-mul.js';
import { registerSimdKernels } from './simd/index.js';

/**
 * What tfjs-backend-wasm needs to train, on the `wasm` backend once it is active, in Node as in a
 * browser: the composite kernels (convolution gradients, a sharing Identity, an untransposed
 * BatchMatMul), then selfsup's SIMD kernels on `threads` threads where wasm SIMD is there and
 * `simdOff` gives no reason to leave them off. Returns whether SIMD is on and the kernels' part of
 * the backend line.
 */
export async function registerWasmTrainingKernels(threads: number, simdOff?: string): Promise<{ simd: boolean; kernels: string }> {
  registerConv2DBackpropFilter('wasm');
  registerConv2DBackpropInput('wasm');
  registerSharedIdentity('wasm');
  registerUntransposedBatchMatMul('wasm');
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  if (simdOff) return { simd, kernels: `, SIMD kernels off (${simdOff})` };
  if (!simd) return { simd, kernels: ', SIMD kernels off (no wasm SIMD)' };
  try {
    const k = await registerSimdKernels('wasm', threads);
    return { simd, kernels: `, selfsup SIMD kernels on ${k.module.threads} thread${k.module.threads === 1 ? '' : 's'}` };
  } catch (e) {
    return { simd, kernels: `, SIMD kernels off (${(e as Error).message})` };
  }
}
