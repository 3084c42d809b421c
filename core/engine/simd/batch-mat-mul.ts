import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { SimdKernelModule } from './kernel-module.js';

/** Products smaller than this (multiply-adds) stay on the backend's kernel: the threads' hand-off costs more. */
const MIN_MACS = 1 << 15;

/**
 * `BatchMatMul` of plain (untransposed) float32 operands as selfsup's SIMD kernel: the rows of every
 * batch are split between the threads, 4 rows x 8 columns in registers. tfjs-backend-wasm 4.22's own
 * kernel runs the batched products of attention (`[B·heads, T, d]`) and most of a ViT's dense
 * layers at 0.2-2.6 GFLOP/s (measured, `bench/README.md`). Operands with `transposeA`/`transposeB`
 * are made plain first by the `batchMatMulUntransposed` wrapper around this kernel; a batch
 * broadcast other than a shared `b` (batch 1), other dtypes and tiny products go to `fallback`.
 */
export function batchMatMulSimd(backendName: string, mod: SimdKernelModule, fallback: KernelConfig): KernelConfig {
  return {
    kernelName: 'BatchMatMul',
    backendName,
    kernelFunc: function simdBatchMatMul(args) {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      const [m, k] = a.shape.slice(-2);
      const [k2, n] = b.shape.slice(-2);
      const outerA = a.shape.slice(0, -2);
      const outerB = b.shape.slice(0, -2);
      const batch = outerA.reduce((x, y) => x * y, 1);
      const batchB = outerB.reduce((x, y) => x * y, 1);
      const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
      const shared = batchB === 1 && outerB.every((d) => d === 1);
      if (transposeA || transposeB || a.dtype !== 'float32' || b.dtype !== 'float32' || k !== k2 || !(sameOuter || shared) || batch * m * k * n < MIN_MACS)
        return fallback.kernelFunc(args);
      const outer = outerA.length >= outerB.length ? outerA : outerB;
      const out = mod.output([...outer, m, n]);
      mod.run('batch_matmul', [mod.ptr(a), mod.ptr(b), out.ptr, batch, m, k, n, shared && batch > 1 ? 1 : 0]);
      return out.info;
    },
  };
}
