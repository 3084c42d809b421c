import type { TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf.js';
import { f32, output, sizeOf, withFallback, type NativeKernelFactory } from './data.js';

/**
 * `BatchMatMul` on oneDNN: transposes are strides (no copy), the batch dims equal or one side's
 * all 1 (broadcast); other broadcasts go to the cpu backend.
 */
export const batchMatMulKernels: NativeKernelFactory = (backendName, addon, stock) => [
  withFallback('BatchMatMul', backendName, stock('BatchMatMul'), ({ inputs, attrs, backend }) => {
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const av = f32(backend, a),
      bv = f32(backend, b);
    if (!av || !bv || a.shape.length < 2 || b.shape.length < 2) return undefined;
    const ra = a.shape.length,
      rb = b.shape.length;
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    if (k !== kb) return undefined; // the stock kernel words the error
    const batchShapeA = a.shape.slice(0, -2),
      batchShapeB = b.shape.slice(0, -2);
    const batchA = sizeOf(batchShapeA),
      batchB = sizeOf(batchShapeB);
    const same = batchA === batchB && batchShapeA.length === batchShapeB.length && batchShapeA.every((d, i) => d === batchShapeB[i]);
    if (!same && batchA !== 1 && batchB !== 1) return undefined;
    const batchShape = tf.backend_util.assertAndGetBroadcastShape(batchShapeA, batchShapeB);
    return output(backend, [...batchShape, m, n], (c) => addon.matmul(av, bv, c, batchA, batchB, m, k, n, transposeA, transposeB));
  }),
];
