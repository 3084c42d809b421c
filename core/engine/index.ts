/**
 * selfsup's engine internals (`selfsup/engine`): the kernels selfsup registers on tfjs backends,
 * wasm threads and memory guards. Backend plugins use them; plugin authors need none of it.
 */
export { registerConv2DBackpropFilter, conv2dBackpropFilterViaConv } from './kernels/conv2d-backprop-filter.js';
export { registerConv2DBackpropInput, conv2dBackpropInputViaPhases } from './kernels/conv2d-backprop-input.js';
export { patchForWasmThreads, removeStaleTempDirs, unrefWasmThreads } from './wasm-threads.js';
export { guardWasmMalloc } from './wasm-memory.js';
export { batchMatMulUntransposed, registerUntransposedBatchMatMul } from './kernels/batch-mat-mul.js';
export { conv2dBackpropFilterSplit, conv2dBackpropFilterSplitWhenLong, registerWebGpuKernels } from './kernels/conv2d-backprop-filter-split.js';
export { registerSharedIdentity, sharedIdentity } from './kernels/identity.js';
export { registerSimdKernels, SimdKernelModule, KERNELS_SOURCE_SHA256 } from './simd/index.js';
export { registerWasmTrainingKernels } from './wasm-kernels.js';
export { installLeanGradients, withStockGradients } from './lean-gradients.js';
export {
  NATIVE_BACKEND,
  registerNativeBackend,
  prepareNativeBackend,
  loadNativeAddon,
  binaryMode,
  BufferPool,
  type NativeAddon,
  type AddonLoad,
} from './native/index.js';
export { cpuThreads } from './threads.js';
