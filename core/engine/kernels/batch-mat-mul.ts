import { tf } from '../tf.js';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { KernelRunner } from './kernel-runner.js';

/**
 * `BatchMatMul` that never asks the backend for a transposed operand: a transposed `a` or `b` is
 * transposed explicitly (the backend's Transpose) and the backend's own kernel then multiplies
 * plain operands. tfjs-backend-wasm 4.22 multiplies plain operands with XNNPACK but transposed ones
 * far slower; measured here, 2 threads, stock -> with this wrapper: `[256,64] x [4096,64]^T`
 * 43.7 -> 7.5 ms, `[256,4096]^T x [256,64]` 130 -> 5.8 ms. Those are MoCo's queue logits and their
 * gradient, and every matmul gradient has one transposed operand.
 */
export function batchMatMulUntransposed(backendName: string, stock: KernelConfig): KernelConfig {
  return {
    kernelName: 'BatchMatMul',
    backendName,
    kernelFunc: function untransposedBatchMatMul(args) {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return stock.kernelFunc(args);
      const r = new KernelRunner(backendName, args.backend);
      const t = (x: TensorInfo) => {
        const perm = x.shape.map((_, i) => i);
        const n = perm.length;
        [perm[n - 2], perm[n - 1]] = [perm[n - 1], perm[n - 2]];
        return r.run('Transpose', { x }, { perm });
      };
      const attrs = { ...args.attrs, transposeA: false, transposeB: false } as unknown as NamedAttrMap;
      const out = stock.kernelFunc({ inputs: { a: transposeA ? t(a) : a, b: transposeB ? t(b) : b }, backend: args.backend, attrs }) as TensorInfo;
      return r.finish(out);
    },
  };
}

/** Wrap `backendName`'s BatchMatMul with `batchMatMulUntransposed` (once). Returns whether it did. */
export function registerUntransposedBatchMatMul(backendName: string): boolean {
  const stock = tf.getKernel('BatchMatMul', backendName);
  if (!stock || stock.kernelFunc.name === 'untransposedBatchMatMul') return false;
  tf.unregisterKernel('BatchMatMul', backendName);
  tf.registerKernel(batchMatMulUntransposed(backendName, stock));
  return true;
}
