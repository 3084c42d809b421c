import type { TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf.js';
import { GELU, GELU_GRAD } from '../simd/gelu.js';
import { f32, output, sizeOf, withFallback, type NativeKernelFactory } from './data.js';

/** tfjs kernel -> the addon's Unary code (native/src/pointwise.h, in order). */
const UNARY: Record<string, number> = {
  Relu: 0,
  Relu6: 1,
  Exp: 2,
  Log: 3,
  Neg: 4,
  Sqrt: 5,
  Rsqrt: 6,
  Square: 7,
  Abs: 8,
  Step: 9,
  Sigmoid: 10,
  Tanh: 11,
  Reciprocal: 12,
  Elu: 13,
  [GELU]: 14,
};
/** tfjs kernel -> the addon's Binary code. */
const BINARY: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6 };
const GELU_GRAD_OP = 8;

/** The addon's Broadcast modes (native/src/pointwise.h). */
const enum Mode {
  Same = 0,
  ScalarB = 1,
  ScalarA = 2,
  BlockB = 3,
  BlockA = 4,
}

/**
 * The smaller operand `small` (padded to the output's rank) against `out` as [outer, mid, inner]:
 * its dims equal the output's, then are 1 (the broadcast run), then equal again. Undefined for
 * other broadcasts (two separate runs of 1s).
 */
function blockOf(small: number[], out: number[]): { mid: number; inner: number } | undefined {
  const s = [...new Array<number>(out.length - small.length).fill(1), ...small];
  let p = 0;
  while (p < out.length && s[p] === out[p]) p++;
  let q = p;
  while (q < out.length && s[q] === 1) q++;
  if (!s.slice(q).every((d, i) => d === out[q + i])) return undefined;
  return { mid: sizeOf(out.slice(p, q)), inner: sizeOf(out.slice(q)) };
}

/** Mode, mid and inner lengths for a binary op on shapes a and b, or undefined for a broadcast without a native loop. */
export function binaryMode(a: number[], b: number[]): { mode: Mode; mid: number; inner: number; out: number[] } | undefined {
  const out = tf.backend_util.assertAndGetBroadcastShape(a, b);
  const na = sizeOf(a),
    nb = sizeOf(b),
    n = sizeOf(out);
  if (na === n && nb === n) return { mode: Mode.Same, mid: 1, inner: 1, out };
  if (na === n && nb === 1) return { mode: Mode.ScalarB, mid: 1, inner: 1, out };
  if (nb === n && na === 1) return { mode: Mode.ScalarA, mid: 1, inner: 1, out };
  const small = na === n ? b : nb === n ? a : undefined;
  const bl = small && blockOf(small, out);
  if (!bl) return undefined;
  return { mode: small === b ? Mode.BlockB : Mode.BlockA, ...bl, out };
}

/** Element-wise kernels (float32), looped natively over the OpenMP threads; other dtypes go to the cpu backend. */
export const pointwiseKernels: NativeKernelFactory = (backendName, addon, stock) => [
  ...Object.entries(UNARY).map(([name, op]) =>
    withFallback(name, backendName, stock(name), ({ inputs, attrs, backend }) => {
      const x = (inputs as { x: TensorInfo }).x;
      const xv = f32(backend, x);
      if (!xv) return undefined;
      const alpha = name === 'Step' ? ((attrs as { alpha?: number }).alpha ?? 0) : 0;
      return output(backend, x.shape.slice(), (y) => addon.unary(op, xv, y, alpha));
    }),
  ),
  ...Object.entries(BINARY).map(([name, op]) =>
    withFallback(name, backendName, stock(name), ({ inputs, backend }) => {
      const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
      const av = f32(backend, a),
        bv = f32(backend, b);
      if (!av || !bv) return undefined;
      const m = binaryMode(a.shape, b.shape);
      if (!m) return undefined;
      return output(backend, m.out, (out) => addon.binary(op, m.mode, av, bv, out, m.mid, m.inner));
    }),
  ),
  withFallback(GELU_GRAD, backendName, stock(GELU_GRAD), ({ inputs, backend }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const xv = f32(backend, x),
      dyv = f32(backend, dy);
    if (!xv || !dyv || sizeOf(x.shape) !== sizeOf(dy.shape)) return undefined;
    return output(backend, x.shape.slice(), (dx) => addon.binary(GELU_GRAD_OP, Mode.Same, dyv, xv, dx, 1, 1));
  }),
];
