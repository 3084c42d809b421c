import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { SimdKernelModule } from './kernel-module.js';

/**
 * GELU (the exact form, x·Φ(x)) and its gradient as kernels backends may provide; `gelu` (core/nn)
 * uses them when the active backend has them and the size is a multiple of 4, and composes tfjs
 * ops otherwise. `SelfsupGelu`: input `x` -> `y`. `SelfsupGeluGrad`: inputs `x`, `dy` -> `dx`.
 * On wasm, tfjs's Erf and Exp are scalar: in a ViT-tiny SimCLR step (batch 64) GELU took about
 * 1.1 s of 5.4.
 */
export const GELU = 'SelfsupGelu';
export const GELU_GRAD = 'SelfsupGeluGrad';

export function geluSimd(backendName: string, mod: SimdKernelModule): KernelConfig {
  return {
    kernelName: GELU,
    backendName,
    kernelFunc: function simdGelu({ inputs }) {
      const { x } = inputs as { x: TensorInfo };
      const n = x.shape.reduce((a, b) => a * b, 1);
      if (n % 4 !== 0 || x.dtype !== 'float32') throw new Error(`${GELU}: float32 with a size that is a multiple of 4 (got ${x.dtype} ${n})`);
      const y = mod.output(x.shape.slice());
      mod.run('gelu_forward', [mod.ptr(x), y.ptr, n / 4]);
      return y.info;
    },
  };
}

export function geluGradSimd(backendName: string, mod: SimdKernelModule): KernelConfig {
  return {
    kernelName: GELU_GRAD,
    backendName,
    kernelFunc: function simdGeluGrad({ inputs }) {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      const n = x.shape.reduce((a, b) => a * b, 1);
      if (n % 4 !== 0 || x.dtype !== 'float32') throw new Error(`${GELU_GRAD}: float32 with a size that is a multiple of 4 (got ${x.dtype} ${n})`);
      const dx = mod.output(x.shape.slice());
      mod.run('gelu_backward', [mod.ptr(x), mod.ptr(dy), dx.ptr, n / 4]);
      return dx.info;
    },
  };
}
