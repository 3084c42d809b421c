import type { TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf.js';
import { f32, output, sizeOf, withFallback, type NativeKernelFactory } from './data.js';

/** tfjs kernel -> the addon's Reduce code, and the attribute naming its axes. */
const REDUCE: Record<string, { op: number; axisAttr: 'axis' | 'reductionIndices' }> = {
  Sum: { op: 0, axisAttr: 'axis' },
  Max: { op: 1, axisAttr: 'reductionIndices' },
  Min: { op: 2, axisAttr: 'axis' }, // tfjs names Max's axes reductionIndices but Min's axis
  Mean: { op: 3, axisAttr: 'axis' },
};

/**
 * `Sum`, `Max`, `Min`, `Mean` of float32 over one run of adjacent axes natively (x viewed as
 * [outer, mid, inner], reduced over mid: rows, a bias gradient's columns, a global average pool);
 * axes apart go to the cpu backend (which transposes).
 */
export const reduceKernels: NativeKernelFactory = (backendName, addon, stock) =>
  Object.entries(REDUCE).map(([name, { op, axisAttr }]) =>
    withFallback(name, backendName, stock(name), ({ inputs, attrs, backend }) => {
      const x = (inputs as { x: TensorInfo }).x;
      const xv = f32(backend, x);
      const a = attrs as unknown as Record<string, number | number[]> & { keepDims?: boolean };
      if (!xv || sizeOf(x.shape) === 0) return undefined;
      const axes = tf.util.parseAxisParam(a[axisAttr], x.shape).sort((p, q) => p - q);
      if (axes.length === 0) return undefined;
      if (!axes.every((d, i) => d === axes[0] + i)) return undefined;
      const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const shape = a.keepDims ? kept : x.shape.filter((_, i) => !axes.includes(i));
      const outer = sizeOf(x.shape.slice(0, axes[0])),
        mid = sizeOf(axes.map((d) => x.shape[d])),
        inner = sizeOf(x.shape.slice(axes[axes.length - 1] + 1));
      return output(backend, shape, (out) => addon.reduce(op, xv, out, outer, mid, inner));
    }),
  );
