import type { TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf.js';
import { f32, output, sizeOf, withFallback, type NativeKernelFactory } from './data.js';

/** `Transpose`, `Slice`, `SplitV`, `PadV2`, `Reverse` (float32, rank up to 8), `Concat` and row-wise `Softmax` natively. */
export const layoutKernels: NativeKernelFactory = (backendName, addon, stock) => [
  withFallback('Transpose', backendName, stock('Transpose'), ({ inputs, attrs, backend }) => {
    const x = (inputs as { x: TensorInfo }).x;
    const { perm } = attrs as unknown as { perm: number[] };
    const xv = f32(backend, x);
    if (!xv || x.shape.length > 8 || x.shape.length === 0) return undefined;
    return output(
      backend,
      perm.map((p) => x.shape[p]),
      (out) => addon.transpose(xv, out, Int32Array.from(x.shape), Int32Array.from(perm)),
    );
  }),
  withFallback('Softmax', backendName, stock('Softmax'), ({ inputs, attrs, backend }) => {
    const logits = (inputs as { logits: TensorInfo }).logits;
    const { dim } = attrs as unknown as { dim: number };
    const v = f32(backend, logits);
    const r = logits.shape.length;
    if (!v || r === 0 || (dim !== -1 && dim !== r - 1)) return undefined;
    const cols = logits.shape[r - 1];
    return output(backend, logits.shape.slice(), (y) => addon.softmax(v, y, v.length / cols, cols));
  }),
  withFallback('Slice', backendName, stock('Slice'), ({ inputs, attrs, backend }) => {
    const x = (inputs as { x: TensorInfo }).x;
    const a = attrs as unknown as { begin: number | number[]; size: number | number[] };
    const xv = f32(backend, x);
    if (!xv || x.shape.length === 0 || x.shape.length > 8) return undefined;
    const [begin, size] = tf.slice_util.parseSliceParams(x, a.begin, a.size);
    tf.slice_util.assertParamsValid(x, begin, size);
    return output(backend, size, (out) => addon.slice(xv, out, Int32Array.from(x.shape), Int32Array.from(begin), Int32Array.from(size)));
  }),
  withFallback('SplitV', backendName, stock('SplitV'), ({ inputs, attrs, backend }) => {
    const x = (inputs as { x: TensorInfo }).x;
    const a = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const xv = f32(backend, x);
    if (!xv || x.shape.length === 0 || x.shape.length > 8) return undefined;
    const axis = tf.util.parseAxisParam(a.axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x, a.numOrSizeSplits, axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = x.shape.slice();
      size[axis] = s;
      const b = Int32Array.from(begin);
      begin[axis] += s;
      return output(backend, size, (out) => addon.slice(xv, out, Int32Array.from(x.shape), b, Int32Array.from(size)));
    });
  }),
  withFallback('PadV2', backendName, stock('PadV2'), ({ inputs, attrs, backend }) => {
    const x = (inputs as { x: TensorInfo }).x;
    const { paddings, constantValue } = attrs as unknown as { paddings: Array<[number, number]>; constantValue: number };
    const xv = f32(backend, x);
    if (!xv || x.shape.length === 0 || x.shape.length > 8) return undefined;
    const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
    return output(backend, outShape, (out) =>
      addon.pad(xv, out, Int32Array.from(x.shape), Int32Array.from(paddings.map((p) => p[0])), Int32Array.from(outShape), constantValue),
    );
  }),
  withFallback('Concat', backendName, stock('Concat'), ({ inputs, attrs, backend }) => {
    // block copies (TypedArray.set) of each input's rows into the output: the cpu kernel copies element by element
    const xs = inputs as unknown as TensorInfo[];
    if (xs.length === 0 || xs[0].shape.length === 0) return undefined;
    const vals = xs.map((x) => f32(backend, x));
    if (vals.some((v) => !v)) return undefined;
    const axis = tf.util.parseAxisParam((attrs as unknown as { axis: number }).axis, xs[0].shape)[0];
    const outShape = tf.backend_util.computeOutShape(
      xs.map((x) => x.shape),
      axis,
    );
    const outer = sizeOf(outShape.slice(0, axis));
    const rows = xs.map((x) => sizeOf(x.shape.slice(axis)));
    const width = rows.reduce((a, b) => a + b, 0);
    return output(backend, outShape, (out) => {
      for (let r = 0; r < outer; r++) {
        let at = r * width;
        for (let i = 0; i < xs.length; i++) {
          out.set(vals[i]!.subarray(r * rows[i], (r + 1) * rows[i]), at);
          at += rows[i];
        }
      }
    });
  }),
  withFallback('Reverse', backendName, stock('Reverse'), ({ inputs, attrs, backend }) => {
    const x = (inputs as { x: TensorInfo }).x;
    const { dims } = attrs as unknown as { dims: number | number[] };
    const xv = f32(backend, x);
    if (!xv || x.shape.length === 0) return undefined;
    const axes = tf.util.parseAxisParam(dims, x.shape);
    if (axes.length === 0) return undefined;
    return output(backend, x.shape.slice(), (out) => {
      let src = xv;
      axes.forEach((d, i) => {
        // one pass per axis; the last writes the output
        const dst = i === axes.length - 1 ? out : new Float32Array(out.length);
        addon.reverse(src, dst, sizeOf(x.shape.slice(0, d)), x.shape[d], sizeOf(x.shape.slice(d + 1)));
        src = dst;
      });
    });
  }),
];
