import { beforeAll, describe, expect, it } from 'vitest';
import { ParamGroups, ParamStore, Rng, createRegistry, layerNorm, tf, type Optimizer } from '../../../cli/api.js';
import { NATIVE_BACKEND, loadNativeAddon, registerNativeBackend, type NativeAddon } from '../../../core/engine/index.js';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, GELU, GELU_GRAD } from '../../../core/engine/simd/index.js';
import { LAYER_NORM, LAYER_NORM_GRAD } from '../../../core/engine/layer-norm-kernels.js';
import { ADAM_STEP } from '../../../core/engine/adam-kernel.js';
import { maxAbs, randn, useBackend } from '../../helpers.js';
import { MANY_POSITIONS, convGrads, randomConvCases, relErr, type ConvCase } from './conv-cases.js';

/**
 * Parity of every kernel of the native backend (core/engine/native, the addon in native/src) with
 * tfjs's cpu backend. Skipped, with the reason, where the addon is not built; SELFSUP_REQUIRE_NATIVE=1
 * (CI) turns that into a failure.
 */
const load = loadNativeAddon();
const required = process.env.SELFSUP_REQUIRE_NATIVE === '1';
const skip = !load.ok && !required;
if (skip) console.warn(`native kernels test skipped: ${load.ok ? '' : load.reason}`);

/** the addon's calls, by method and by method:first argument (the op of unary/binary/reduce, the kind of conv2d) */
const calls = new Map<string, number>();
function counting(addon: NativeAddon): NativeAddon {
  // a plain object of wrappers (the addon's functions are read-only, non-enumerable properties, which a Proxy may not replace)
  const wrapped: Record<string, unknown> = {};
  for (const name of Object.getOwnPropertyNames(addon)) {
    const v = (addon as unknown as Record<string, unknown>)[name];
    wrapped[name] =
      typeof v !== 'function'
        ? v
        : (...args: unknown[]) => {
            for (const key of [name, `${name}:${String(args[0])}`]) calls.set(key, (calls.get(key) ?? 0) + 1);
            return (v as (...a: unknown[]) => unknown).apply(addon, args);
          };
  }
  return wrapped as unknown as NativeAddon;
}
/** how often the addon's `key` ran during `fn` */
function callsDuring(key: string, fn: () => void): number {
  const before = calls.get(key) ?? 0;
  fn();
  return (calls.get(key) ?? 0) - before;
}

interface Out {
  shape: number[];
  dtype: string;
  values: Float32Array | Int32Array | Uint8Array;
}
type Backend = 'native' | 'cpu';

/** `fn` on `backend` (its inputs made there too): every output's shape, dtype and values */
function on(backend: Backend, fn: () => tf.Tensor | tf.Tensor[]): Out[] {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const r = fn();
    return (Array.isArray(r) ? r : [r]).map((t) => ({ shape: t.shape.slice(), dtype: t.dtype, values: t.dataSync().slice() as Out['values'] }));
  });
}

/** `fn` on native and on cpu, and the addon calls it made on native (`key`: one method, or method:op) */
function both(fn: () => tf.Tensor | tf.Tensor[], key = ''): { got: Out[]; ref: Out[]; native: number } {
  let got: Out[] = [];
  const native = callsDuring(key, () => (got = on('native', fn)));
  return { got, ref: on('cpu', fn), native };
}

/** the largest difference relative to the reference's largest magnitude, where equal values (infinities) and NaN against NaN count as 0 */
function diff(got: ArrayLike<number>, ref: ArrayLike<number>): { rel: number; nanMismatch: number } {
  let d = 0,
    m = 0,
    nanMismatch = 0;
  for (let i = 0; i < ref.length; i++) {
    const [g, r] = [got[i], ref[i]];
    if (Number.isNaN(g) || Number.isNaN(r)) {
      if (Number.isNaN(g) !== Number.isNaN(r)) nanMismatch++;
      continue;
    }
    if (Number.isFinite(r)) m = Math.max(m, Math.abs(r));
    if (g !== r) d = Math.max(d, Math.abs(g - r));
  }
  return { rel: m > 0 ? d / m : d, nanMismatch };
}

/** every output with the reference's shape and dtype, NaNs where it has them, values within `tol` relative (0: exact) */
function expectSame(got: Out[], ref: Out[], tol: number, label: string): void {
  expect(got.length, label).toBe(ref.length);
  ref.forEach((r, i) => {
    const g = got[i];
    expect(g.shape, `${label} [${i}] shape`).toEqual(r.shape);
    expect(g.dtype, `${label} [${i}] dtype`).toBe(r.dtype);
    expect(g.values.length, `${label} [${i}] size`).toBe(r.values.length);
    const d = diff(g.values, r.values);
    expect(d.nanMismatch, `${label} [${i}] NaN positions`).toBe(0);
    if (tol === 0) expect(d.rel, `${label} [${i}]`).toBe(0);
    else expect(d.rel, `${label} [${i}]`).toBeLessThan(tol);
  });
}

const t = (shape: number[], seed: number, scale = 1, offset = 0) =>
  tf.tensor(
    randn(shape, seed).map((v) => v * scale + offset),
    shape,
  );

describe.skipIf(skip)('native backend kernels (core/engine/native) equal the cpu backend', () => {
  let replaced: string[] = [];
  beforeAll(async () => {
    if (!load.ok) throw new Error(`SELFSUP_REQUIRE_NATIVE=1 and the native addon does not load: ${load.reason}`);
    await useBackend('cpu', createRegistry());
    replaced = await registerNativeBackend(counting(load.addon), 2);
    await tf.setBackend(NATIVE_BACKEND);
    await tf.setBackend('cpu');
  });

  it('registers native kernels under the names of the cpu kernels they replace, and every other cpu kernel too', () => {
    expect(load.ok).toBe(true);
    const expected = [
      ...['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BatchMatMul'],
      ...['Relu', 'Relu6', 'Exp', 'Log', 'Neg', 'Sqrt', 'Rsqrt', 'Square', 'Abs', 'Step', 'Sigmoid', 'Tanh', 'Reciprocal', 'Elu'],
      ...['Add', 'Sub', 'Multiply', 'RealDiv', 'Maximum', 'Minimum', 'SquaredDifference'],
      ...['Sum', 'Max', 'Min', 'Mean', 'Transpose', 'Softmax', 'Slice', 'SplitV', 'Reverse'],
    ];
    for (const name of expected) {
      expect(replaced, name).toContain(name);
      const cpu = tf.getKernel(name, 'cpu');
      expect(cpu, name).toBeDefined();
      expect(tf.getKernel(name, NATIVE_BACKEND)!.kernelFunc !== cpu!.kernelFunc, name).toBe(true);
    }
    for (const name of [GELU, GELU_GRAD, BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, LAYER_NORM, LAYER_NORM_GRAD, ADAM_STEP]) {
      expect(replaced, name).toContain(name);
      expect(tf.getKernel(name, NATIVE_BACKEND), name).toBeDefined();
    }
    const cpuKernels = tf.getKernelsForBackend('cpu').map((k) => k.kernelName);
    expect(cpuKernels.length).toBeGreaterThan(100);
    expect(cpuKernels.filter((name) => !tf.getKernel(name, NATIVE_BACKEND))).toEqual([]);
  });

  const cases = randomConvCases(24, 6);
  it.each(cases.map((c, i) => [i, c.xs, c.fs, c.stride, c.pad] as const))(
    'Conv2DBackprop{Filter,Input} random case %i: x %j, filter %j, stride %j, pad %j equal cpu',
    (i) => {
      const c = cases[i];
      const ref = convGrads('cpu', c, 100 + i);
      let got = ref;
      expect(callsDuring('conv2d:1', () => expect(callsDuring('conv2d:2', () => (got = convGrads('native', c, 100 + i)))).toBe(1))).toBe(1);
      expect(got.dw.length).toBe(ref.dw.length);
      expect(got.dx.length).toBe(ref.dx.length);
      expect(maxAbs(ref.dw)).toBeGreaterThan(0);
      expect(relErr(got.dw, ref.dw)).toBeLessThan(1e-5);
      expect(relErr(got.dx, ref.dx)).toBeLessThan(1e-5);
    },
  );

  it.each(cases.map((c, i) => [i, c.xs, c.fs, c.stride, c.pad] as const))(
    'Conv2D random case %i: x %j, filter %j, stride %j, pad %j, dilation 1, 2 and 3 (stride 1) equals cpu',
    (i) => {
      const c = cases[i];
      for (const d of [1, 2, 3]) {
        if (d > 1 && (c.xs[1] < d * c.fs[0] || c.xs[2] < d * c.fs[1])) continue; // the image is smaller than the dilated filter
        const { got, ref, native } = both(
          () => tf.conv2d(t(c.xs, i) as tf.Tensor4D, t(c.fs, i + 1) as tf.Tensor4D, d > 1 ? 1 : c.stride, c.pad as never, 'NHWC', d),
          'conv2d:0',
        );
        expect(native, `dilation ${d}`).toBe(1);
        expect(maxAbs(ref[0].values)).toBeGreaterThan(0);
        expectSame(got, ref, 1e-5, `dilation ${d}`);
      }
    },
  );

  it('convolutions over many positions, with a filter over 512 KB, and a ResNet stride-2 1x1 shortcut: forward and both gradients equal cpu', () => {
    const big: ConvCase[] = [
      ...MANY_POSITIONS,
      { xs: [9, 28, 28, 8], fs: [3, 3, 8, 16], stride: [1, 1], pad: 'same' },
      { xs: [2, 6, 6, 256], fs: [3, 3, 256, 128], stride: [1, 1], pad: 'same' }, // 1.2 MB of filter
      { xs: [4, 14, 14, 64], fs: [1, 1, 64, 128], stride: [2, 2], pad: 'valid' }, // the shortcut of a ResNet stage
    ];
    for (const [i, c] of big.entries()) {
      const label = `${c.xs} ${c.fs} ${c.stride}`;
      const { got, ref, native } = both(() => tf.conv2d(t(c.xs, 1) as tf.Tensor4D, t(c.fs, 2) as tf.Tensor4D, c.stride, c.pad as never), 'conv2d:0');
      expect(native, label).toBe(1);
      expectSame(got, ref, 1e-5, label);
      const rg = convGrads('cpu', c, 7 + i);
      const gg = convGrads('native', c, 7 + i);
      expect(relErr(gg.dw, rg.dw), label).toBeLessThan(1e-5);
      expect(relErr(gg.dx, rg.dx), label).toBeLessThan(1e-5);
    }
  });

  it('Conv2D in NCHW falls back to the cpu kernel', () => {
    const { got, ref, native } = both(() => tf.conv2d(t([2, 3, 9, 8], 1) as tf.Tensor4D, t([3, 3, 3, 5], 2) as tf.Tensor4D, 1, 'same', 'NCHW'), 'conv2d');
    expect(native).toBe(0);
    expectSame(got, ref, 0, 'NCHW');
  });

  it('BatchMatMul: transposes, batch broadcast (one side a single batch, ranks apart) on oneDNN; a general broadcast falls back; all equal cpu', () => {
    const cases: Array<[number[], number[], boolean, boolean, boolean]> = [
      [[37, 19], [37, 23], true, false, true],
      [[19, 37], [23, 37], false, true, true],
      [[37, 19], [23, 37], true, true, true],
      [[3, 8, 5], [3, 6, 8], true, true, true],
      [[2, 5, 8], [2, 7, 8], false, true, true],
      [[19, 37], [37, 23], false, false, true],
      [[1, 5, 8], [3, 8, 6], false, false, true],
      [[3, 5, 8], [8, 6], false, false, true],
      [[5, 8], [3, 8, 6], false, false, true],
      [[3, 5, 8], [1, 8, 6], false, false, true],
      [[1, 8, 5], [3, 6, 8], true, true, true],
      [[2, 3, 33, 70], [70, 19], false, false, true],
      [[2, 1, 5, 8], [1, 3, 8, 6], false, false, false], // no native loop for this broadcast
    ];
    for (const [as, bs, ta, tb, isNative] of cases) {
      const label = `${as} x ${bs} ${ta} ${tb}`;
      const { got, ref, native } = both(() => tf.matMul(t(as, 1) as tf.Tensor3D, t(bs, 2) as tf.Tensor3D, ta, tb), 'matmul');
      expect(native, label).toBe(isNative ? 1 : 0);
      expect(maxAbs(ref[0].values)).toBeGreaterThan(0);
      expectSame(got, ref, 1e-5, label);
    }
    // and the gradients through it (each two more products with transposed operands; tfjs's gradient does not reduce a broadcast batch)
    for (const tb of [false, true]) {
      const { got, ref, native } = both(() => {
        const a = t([4, 37, 24], 5);
        const w = t(tb ? [4, 29, 24] : [4, 24, 29], 6);
        return tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D, false, tb))))([a, w]);
      }, 'matmul');
      expect(native).toBe(3);
      expectSame(got, ref, 1e-5, `gradients, transposeB ${tb}`);
    }
  });

  const UNARY: Array<[string, (x: tf.Tensor) => tf.Tensor, 'any' | 'positive']> = [
    ['Relu', tf.relu, 'any'],
    ['Relu6', tf.relu6, 'any'],
    ['Exp', tf.exp, 'any'],
    ['Log', tf.log, 'positive'],
    ['Neg', tf.neg, 'any'],
    ['Sqrt', tf.sqrt, 'positive'],
    ['Rsqrt', tf.rsqrt, 'positive'],
    ['Square', tf.square, 'any'],
    ['Abs', tf.abs, 'any'],
    ['Step', (x) => tf.step(x, 0.3), 'any'],
    ['Sigmoid', tf.sigmoid, 'any'],
    ['Tanh', tf.tanh, 'any'],
    ['Reciprocal', tf.reciprocal, 'any'],
    ['Elu', tf.elu, 'any'],
  ];
  /** values over the interesting ranges of the unary ops, with exact zeros and values either side of 6 */
  const unaryInput = (kind: 'any' | 'positive', n: number, seed: number) => {
    const v = randn([n], seed).map((x) => 3 * x);
    for (let i = 0; i < n; i += 11) v[i] = 0;
    for (let i = 5; i < n; i += 17) v[i] = i % 2 ? 6 : 7.5;
    return kind === 'positive' ? v.map((x) => Math.abs(x) + 0.05) : v;
  };
  it.each(UNARY)('%s equals cpu within 1e-6', (name, op, kind) => {
    const shape = [7, 13, 3];
    const { got, ref, native } = both(() => op(tf.tensor(unaryInput(kind, 273, 3), shape)), 'unary');
    expect(native).toBe(1);
    expect(maxAbs(ref[0].values)).toBeGreaterThan(0);
    expectSame(got, ref, 1e-6, name);
  });

  it('unary ops on int32 fall back to the cpu kernels (the right integers)', () => {
    tf.setBackend(NATIVE_BACKEND);
    expect(
      callsDuring('unary', () => {
        const y = tf.abs(tf.tensor1d([-3, 0, 5, -16777215], 'int32'));
        expect(y.dtype).toBe('int32');
        expect(Array.from(y.dataSync())).toEqual([3, 0, 5, 16777215]);
        expect(Array.from(tf.neg(tf.tensor1d([4, -7], 'int32')).dataSync())).toEqual([-4, 7]);
        expect(Array.from(tf.square(tf.tensor1d([3, -5], 'int32')).dataSync())).toEqual([9, 25]);
      }),
    ).toBe(0);
  });

  it('GELU and its gradient (the SelfsupGelu kernels) equal the composed 0.5 x (1 + erf(x / sqrt 2)) and its autodiff on cpu', () => {
    const shape = [7, 13]; // 91: not a multiple of 4 (the wasm kernels' condition), which the native ones do not need
    const composed = (x: tf.Tensor) => tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));
    const x = () => t(shape, 4, 2.5);
    tf.setBackend(NATIVE_BACKEND);
    let y: Out[] = [],
      dx: Out[] = [];
    expect(callsDuring(`unary:14`, () => (y = on('native', () => tf.engine().runKernel(GELU, { x: x() }) as tf.Tensor)))).toBe(1);
    expect(callsDuring('binary:8', () => (dx = on('native', () => tf.engine().runKernel(GELU_GRAD, { x: x(), dy: t(shape, 5) }) as tf.Tensor)))).toBe(1);
    const yRef = on('cpu', () => composed(x()));
    const dxRef = on('cpu', () => tf.grad(composed)(x(), t(shape, 5)));
    expectSame(y, yRef, 1e-6, 'gelu');
    expectSame(dx, dxRef, 1e-5, 'gelu grad');
    // known values: torch.nn.functional.gelu(torch.tensor([-3., -1., 0., .5, 2.]))
    tf.setBackend(NATIVE_BACKEND);
    const known = (tf.engine().runKernel(GELU, { x: tf.tensor1d([-3, -1, 0, 0.5, 2]) }) as tf.Tensor).dataSync();
    [-0.0040496, -0.1586553, 0, 0.3457312, 1.9544997].forEach((v, i) => expect(known[i]).toBeCloseTo(v, 6));
  });

  type Binary = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
  const BINARY: Array<[string, Binary]> = [
    ['add', tf.add],
    ['sub', tf.sub],
    ['mul', tf.mul],
    ['div', tf.div],
    ['maximum', tf.maximum],
    ['minimum', tf.minimum],
    ['squaredDifference', tf.squaredDifference],
  ];
  /** [a, b, the native loop takes it] */
  const BROADCASTS: Array<[number[], number[], boolean]> = [
    [[5, 7], [5, 7], true],
    [[4, 3, 5], [], true], // scalar b
    [[], [4, 3, 5], true], // scalar a
    [[3, 4, 6], [1, 1, 1], true], // one element, rank kept
    [[5, 7], [7], true], // bias
    [[7], [5, 7], true],
    [[2, 3, 4, 5], [1, 1, 4, 5], true],
    [[5, 1], [5, 7], true], // a column
    [[5, 7], [5, 1], true],
    [[2, 1, 1, 6], [2, 3, 4, 6], true], // per image and channel
    [[2, 3, 4, 6], [2, 1, 1, 6], true],
    [[2, 3, 1, 1], [2, 3, 4, 5], true], // per image and row
    [[2, 3, 4, 5], [2, 3, 1, 1], true],
    [[2, 3, 4, 5], [2, 1, 1, 1], true], // per image
    [[3, 1, 5], [1, 4, 1], false], // both broadcast: the cpu kernel
    [[2, 3, 4, 5], [3, 1, 1], false], // two runs of 1s
  ];
  it.each(BINARY)('%s equals cpu for every broadcast (the native loops, and the fallback for the others)', (name, op) => {
    for (const [as, bs, isNative] of BROADCASTS) {
      const label = `${name} ${JSON.stringify(as)} ${JSON.stringify(bs)}`;
      // b away from 0, so that div stays finite
      const { got, ref, native } = both(
        () =>
          op(
            t(as, 1),
            tf.tensor(
              randn(bs, 2).map((v) => v + (v < 0 ? -0.5 : 0.5)),
              bs,
            ),
          ),
        'binary',
      );
      expect(native, label).toBe(isNative ? 1 : 0);
      expect(maxAbs(ref[0].values), label).toBeGreaterThan(0);
      expectSame(got, ref, name === 'squaredDifference' ? 1e-6 : 0, label);
    }
  });

  it('maximum and minimum propagate NaN as cpu does, from either side; add does too', () => {
    const a = [NaN, 1, NaN, -2, 3, 0];
    const b = [0, NaN, NaN, 5, -1, 0];
    for (const [name, op] of [
      ['maximum', tf.maximum],
      ['minimum', tf.minimum],
      ['add', tf.add],
    ] as Array<[string, Binary]>) {
      for (const bs of [[6], [1], []]) {
        const label = `${name} [6] vs ${JSON.stringify(bs)}`;
        const bv = bs.length && bs[0] === 6 ? b : [NaN];
        const { got, ref } = both(() => [op(tf.tensor1d(a), tf.tensor(bv, bs)), op(tf.tensor(bv, bs), tf.tensor1d(a))]);
        expect(Array.from(ref[0].values).some(Number.isNaN), label).toBe(true);
        expectSame(got, ref, 0, label);
      }
    }
  });

  it('relu, relu6, step and the other unary ops keep NaN where cpu does (a ReLU must not hide a blow-up)', () => {
    const x = [NaN, -1, 0, 2, NaN, 7];
    for (const [name, op] of [
      ['relu', tf.relu],
      ['relu6', tf.relu6],
      ['step', (t: tf.Tensor) => tf.step(t, 0.3)],
      ['exp', tf.exp],
      ['sigmoid', tf.sigmoid],
      ['abs', tf.abs],
    ] as Array<[string, (t: tf.Tensor) => tf.Tensor]>) {
      const { got, ref } = both(() => [op(tf.tensor1d(x))]);
      expect(Number.isNaN(ref[0].values[0]), name).toBe(true);
      expectSame(got, ref, 1e-6, name);
    }
  });

  type Reduction = (x: tf.Tensor, axis?: number | number[], keepDims?: boolean) => tf.Tensor;
  const REDUCTIONS: Array<[string, Reduction, number]> = [
    ['sum', tf.sum, 1e-5],
    ['max', tf.max, 0],
    ['min', tf.min, 0],
    ['mean', tf.mean, 1e-5],
  ];
  /** [shape, axes, the native loop takes it] */
  const AXES: Array<[number[], number | number[] | undefined, boolean]> = [
    [[6, 37], -1, true],
    [[2, 3, 4, 5], 3, true],
    [[37, 6], 0, true],
    [[4, 3, 5, 6], 0, true],
    [[3, 9, 5], 1, true],
    [[4, 6, 7, 5], [1, 2], true], // a global average pool
    [[4, 6, 7, 5], [2, 1], true],
    [[3, 4, 5], undefined, true], // every axis
    [[3, 4, 5], [0, 1, 2], true],
    [[7], 0, true],
    [[3, 4, 5], [0, 2], false], // axes apart: the cpu kernel
    [[2, 3, 4, 5], [1, 3], false],
  ];
  it.each(REDUCTIONS)('%s over adjacent axes equals cpu, keepDims or not; axes apart fall back', (name, op, tol) => {
    for (const [shape, axis, isNative] of AXES) {
      for (const keepDims of [false, true]) {
        const label = `${name} ${JSON.stringify(shape)} axes ${JSON.stringify(axis)} keepDims ${keepDims}`;
        const { got, ref, native } = both(() => op(t(shape, 3, 2, 0.5), axis, keepDims), 'reduce');
        expect(native, label).toBe(isNative ? 1 : 0);
        expectSame(got, ref, tol, label);
      }
    }
  });

  it('Transpose equals cpu for random permutations of ranks 2-5', () => {
    const r = Rng.fromSeed(4, 'perms');
    const int = (lo: number, hi: number) => lo + Math.floor(r.uniform() * (hi - lo + 1));
    for (let rank = 2; rank <= 5; rank++) {
      for (let trial = 0; trial < 6; trial++) {
        const shape = Array.from({ length: rank }, () => int(1, rank > 3 ? 6 : 9));
        const perm = [...Array(rank).keys()];
        for (let i = rank - 1; i > 0; i--) {
          const j = int(0, i);
          [perm[i], perm[j]] = [perm[j], perm[i]];
        }
        if (trial === 0) perm.reverse();
        const label = `${shape} perm ${perm}`;
        const { got, ref, native } = both(() => tf.transpose(t(shape, trial), perm), 'transpose');
        expect(native, label).toBe(1);
        expectSame(got, ref, 0, label);
      }
    }
  });

  it('Slice equals cpu for random begins and sizes of ranks 1-4 (size -1 too); int32 falls back', () => {
    const r = Rng.fromSeed(3, 'slices');
    for (const shape of [[9], [5, 7], [3, 6, 5], [4, 28, 30, 1], [3, 4, 5, 6]]) {
      for (let trial = 0; trial < 6; trial++) {
        const begin = shape.map((d) => Math.floor(r.uniform() * d));
        const size = shape.map((d, i) =>
          trial === 0 && i === 0 ? -1 : trial === 1 && i === shape.length - 1 ? -1 : 1 + Math.floor(r.uniform() * (d - begin[i])),
        );
        const label = `${shape} begin ${begin} size ${size}`;
        const { got, ref, native } = both(() => tf.slice(t(shape, trial), begin, size), 'slice');
        expect(native, label).toBe(1);
        expectSame(got, ref, 0, label);
      }
    }
    tf.setBackend(NATIVE_BACKEND);
    expect(callsDuring('slice', () => expect(Array.from(tf.slice(tf.tensor1d([1, 2, 3, 4], 'int32'), 1, 2).dataSync())).toEqual([2, 3]))).toBe(0);
  });

  it('split (SplitV) with sizes along axes 0 and 1, with -1 and into equal parts, equals cpu', () => {
    const cases: Array<[number[], number | number[], number]> = [
      [[6, 4, 5], [2, 3, 1], 0],
      [[3, 7, 5], [2, -1, 1], 1],
      [[3, 8, 5], 4, 1],
      [[4, 9], [5, 4], 1],
      [[10], [3, 7], 0],
    ];
    for (const [shape, sizes, axis] of cases) {
      const label = `${shape} ${JSON.stringify(sizes)} axis ${axis}`;
      const { got, ref, native } = both(() => tf.split(t(shape, 9), sizes, axis), 'slice');
      expect(native, label).toBe(got.length);
      expect(got.length, label).toBe(typeof sizes === 'number' ? sizes : sizes.length);
      expectSame(got, ref, 0, label);
    }
  });

  it('Concat along every axis of ranks 1-4 (negative axes, three inputs, an empty one) equals cpu exactly; int32 falls back', () => {
    const cases: Array<[number[][], number]> = [
      [[[5], [3]], 0],
      [
        [
          [4, 1, 6],
          [4, 16, 6],
        ],
        1,
      ],
      [
        [
          [2, 3, 4],
          [2, 3, 1],
          [2, 3, 5],
        ],
        -1,
      ],
      [
        [
          [2, 3, 4, 5],
          [1, 3, 4, 5],
        ],
        0,
      ],
      [
        [
          [2, 3, 4, 5],
          [2, 3, 2, 5],
        ],
        2,
      ],
      [
        [
          [3, 0, 2],
          [3, 4, 2],
        ],
        1,
      ],
    ];
    for (const [shapes, axis] of cases) {
      const { got, ref, native } = both(
        () =>
          tf.concat(
            shapes.map((sh, i) => t(sh, 70 + i)),
            axis,
          ),
        'concat',
      );
      expectSame(got, ref, 0, `${JSON.stringify(shapes)} axis ${axis}`);
      expect(native, 'a JS kernel: no addon call').toBe(0);
    }
    const ints = both(() => tf.concat([tf.tensor([1, 2], [2], 'int32'), tf.tensor([3], [1], 'int32')]));
    expect(Array.from(ints.got[0].values)).toEqual([1, 2, 3]);
    expect(replaced).toContain('Concat');
  });

  it('Reverse equals cpu for every axis subset of ranks 1-4 (negative axes too)', () => {
    for (const shape of [[7], [3, 5], [2, 3, 5], [2, 3, 4, 5], [1, 6, 1, 3]]) {
      const rank = shape.length;
      for (let mask = 1; mask < 1 << rank; mask++) {
        const axes = [...Array(rank).keys()].filter((a) => mask & (1 << a)).map((a, j) => (j % 2 ? a - rank : a));
        const label = `${shape} axes ${axes}`;
        const { got, ref, native } = both(() => tf.reverse(t(shape, mask), axes), 'reverse');
        expect(native, label).toBe(axes.length);
        expectSame(got, ref, 0, label);
      }
    }
    tf.setBackend(NATIVE_BACKEND);
    expect(Array.from(tf.reverse(tf.tensor1d([1, 2, 3], 'int32')).dataSync())).toEqual([3, 2, 1]);
  });

  it('softmax on [7, 13] and [2, 3, 50] equals cpu, large logits too, and rows sum to 1', () => {
    for (const [shape, scale] of [
      [[7, 13], 1],
      [[2, 3, 50], 1],
      [[2, 3, 50], 60], // exp would overflow without the row max taken off
    ] as Array<[number[], number]>) {
      const label = `${shape} x${scale}`;
      const { got, ref, native } = both(() => tf.softmax(t(shape, 6, scale)), 'softmax');
      expect(native, label).toBe(1);
      expectSame(got, ref, 1e-6, label);
      const cols = shape[shape.length - 1];
      for (let row = 0; row < got[0].values.length / cols; row++) {
        const s = Array.from(got[0].values.slice(row * cols, (row + 1) * cols)).reduce((a, b) => a + b, 0);
        expect(s, label).toBeCloseTo(1, 5);
      }
    }
  });

  /** the training batch norm formula of core/nn as tfjs ops (x channels last, 4-D) */
  const bnReference = (relu: boolean) => (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const y = tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
    return relu ? tf.relu(y) : y;
  };
  it.each([true, false])('batch norm (SelfsupBatchNormTrain and its gradient kernel), relu %s, equals the composed ops on cpu', (relu) => {
    const shape = [6, 5, 7, 9];
    // an offset mean and a spread per channel, as activations have
    const x = () => t(shape, 11, 3, 5);
    const gamma = () => t([9], 12);
    const beta = () => t([9], 13);
    const dy = () => t(shape, 14);
    const attrs = { eps: 1e-5, relu };
    let fwd: Out[] = [],
      grads: Out[] = [];
    expect(
      callsDuring('batchNormTrain', () => {
        fwd = on('native', () => tf.engine().runKernel(BATCH_NORM_TRAIN, { x: x(), gamma: gamma(), beta: beta() }, attrs as never) as tf.Tensor[]);
      }),
    ).toBe(1);
    expect(
      callsDuring('batchNormTrainGrad', () => {
        grads = on('native', () => {
          const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x: x(), gamma: gamma(), beta: beta() }, attrs as never) as tf.Tensor[];
          return tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { dy: dy(), x: x(), y, mean, variance, gamma: gamma() }, attrs as never) as tf.Tensor[];
        });
      }),
    ).toBe(1);
    const ref = on('cpu', () => {
      const { mean, variance } = tf.moments(x(), [0, 1, 2]);
      return [bnReference(relu)(x(), gamma(), beta()), mean, variance];
    });
    const refGrads = on('cpu', () => tf.grads(bnReference(relu))([x(), gamma(), beta()], dy()));
    expect(fwd.map((o) => o.shape)).toEqual([shape, [9], [9]]);
    expect(Array.from(ref[0].values).filter((v) => v === 0).length > 0).toBe(relu);
    ['y', 'mean', 'variance'].forEach((k, i) => expectSame([fwd[i]], [ref[i]], 2e-5, k));
    ['dx', 'dgamma', 'dbeta'].forEach((k, i) => {
      expect(maxAbs(refGrads[i].values), k).toBeGreaterThan(0);
      expectSame([grads[i]], [refGrads[i]], 2e-5, k);
    });
  });

  it.each([[[3, 7, 5]], [[2, 65, 192]], [[129, 33]]])(
    'layer norm (SelfsupLayerNorm and its gradient kernel) on %j equals the moments composed on cpu, values and gradients, one call each',
    (shape) => {
      const d = shape[shape.length - 1];
      // rows with an offset mean and a spread, as residual streams have
      const x = () => t(shape, 21, 3, 1);
      const w = () => t([d], 22);
      const b = () => t([d], 23);
      const r = () => t(shape, 24);
      const composite = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => {
        const { mean, variance } = tf.moments(xi, -1, true);
        return tf.add(tf.mul(tf.mul(tf.sub(xi, mean), tf.rsqrt(tf.add(variance, 1e-6))), wi), bi);
      };
      const run = (f: typeof composite) => () => {
        const ins = [x(), w(), b()];
        return [f(ins[0], ins[1], ins[2]), ...tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(f(xi, wi, bi), r())))(ins)];
      };
      let got: Out[] = [];
      const fwd = callsDuring('layerNorm', () => {
        const bwd = callsDuring(
          'layerNormGrad',
          () =>
            (got = on(
              'native',
              run((xi, wi, bi) => layerNorm(xi, wi, bi, 1e-6)),
            )),
        );
        expect(bwd).toBe(1);
      });
      // once for the value, once in the recorded forward of tf.grads
      expect(fwd).toBe(2);
      const ref = on('cpu', run(composite));
      ['y', 'dx', 'dweight', 'dbias'].forEach((k, i) => {
        expect(maxAbs(ref[i].values), k).toBeGreaterThan(0);
        expectSame([got[i]], [ref[i]], 2e-5, k);
      });
    },
  );

  it('layer norm on native: the gradient agrees with central finite differences', () => {
    const shape = [4, 6];
    const inputs = [randn(shape, 31).map((v) => 2 * v + 0.5), randn([6], 32), randn([6], 33)];
    const shapes = [shape, [6], [6]];
    const weights = randn(shape, 34);
    const loss = (vals: Float32Array[]) =>
      on('native', () =>
        tf.sum(tf.mul(layerNorm(tf.tensor(vals[0], shapes[0]), tf.tensor(vals[1], [6]), tf.tensor(vals[2], [6]), 1e-6), tf.tensor(weights, shape))),
      )[0].values[0];
    const grads = on('native', () =>
      tf.grads((a: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(layerNorm(a, w, b, 1e-6), tf.tensor(weights, shape))))(
        inputs.map((v, i) => tf.tensor(v, shapes[i])),
      ),
    );
    const h = 1e-2;
    for (const k of [0, 1, 2])
      for (const j of [0, 3, 5]) {
        const plus = inputs.map((v) => v.slice());
        const minus = inputs.map((v) => v.slice());
        plus[k][j] += h;
        minus[k][j] -= h;
        const fd = (loss(plus) - loss(minus)) / (2 * h);
        expect(Math.abs(fd - grads[k].values[j]), `input ${k}[${j}]: fd ${fd} analytic ${grads[k].values[j]}`).toBeLessThan(2e-2 * Math.max(1, Math.abs(fd)));
      }
  });

  it.each([
    ['adam', 0],
    ['adam', 0.05],
    ['adamw', 0.05],
  ] as const)(
    "%s, weight decay %s: the fused update (SelfsupAdamStep, one call a parameter) gives the composed ops' parameters and moments on cpu",
    async (type, weightDecay) => {
      const registry = createRegistry();
      /** 6 steps on `backend` of a decayed [200, 300] weight (the threaded loop) and an undecayed [7] bias, from fixed gradients */
      const run = async (backend: Backend) => {
        tf.setBackend(backend);
        const opt = (await registry.create(
          'optimizer',
          { type, lr: 0.01, weightDecay },
          { seed: 0, rng: Rng.fromSeed(0), path: '/optimizer', registry, log: () => {} },
        )) as Optimizer;
        const store = new ParamStore('t');
        const w = store.add('w', [200, 300], { init: () => randn([200, 300], 41) });
        const b = store.add('b', [7], { init: () => randn([7], 42), decay: false });
        const params = store.list();
        opt.init(params);
        const groups = new ParamGroups(
          params.map((p) => ({ ...p, key: p.name })),
          [],
        );
        let n = 0;
        for (let i = 0; i < 6; i++) {
          const before = calls.get('adamStep') ?? 0;
          tf.tidy(() =>
            opt.apply(
              new Map([
                ['w', tf.tensor(randn([200, 300], 50 + i), [200, 300])],
                ['b', tf.tensor(randn([7], 60 + i), [7])],
              ]),
              groups.hyper(opt, 1 - i / 10),
            ),
          );
          n += (calls.get('adamStep') ?? 0) - before;
        }
        const state = [...opt.state().entries()].sort(([a], [c]) => a.localeCompare(c)).map(([k, v]) => [k, v.dataSync().slice()] as const);
        const out = { w: w.dataSync().slice(), b: b.dataSync().slice(), state, calls: n };
        store.dispose();
        return out;
      };
      const ref = await run('cpu');
      const got = await run('native');
      expect(ref.calls).toBe(0);
      expect(got.calls).toBe(12);
      expect(got.state.map(([k]) => k)).toEqual(ref.state.map(([k]) => k));
      for (const [k, [name, values]] of got.state.entries()) {
        expect(diff(values, ref.state[k][1]).rel, name).toBeLessThan(1e-5);
      }
      expect(diff(got.w, ref.w).rel).toBeLessThan(1e-6);
      expect(diff(got.b, ref.b).rel).toBeLessThan(1e-6);
      // the update moved the weights (a kernel that copied them would pass the comparison above only if cpu did too)
      expect(diff(got.w, randn([200, 300], 41)).rel).toBeGreaterThan(1e-3);
    },
  );

  it('large element-wise cases (over 32768 elements: the threaded loops) equal cpu', () => {
    const composedGelu = () => {
      const x = t([300, 130], 9);
      return tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));
    };
    // [what, the addon method, the op (its largest operand over 32768 elements), the tolerance, the reference on cpu where cpu has no such kernel]
    const checks: Array<[string, string, () => tf.Tensor, number, (() => tf.Tensor)?]> = [
      ['add with a bias', 'binary', () => tf.add(t([256, 160], 1), t([160], 2)), 0],
      ['mul by [B, 1, 1, C]', 'binary', () => tf.mul(t([8, 1, 1, 64], 1), t([8, 9, 9, 64], 2)), 0],
      ['relu', 'unary', () => tf.relu(t([256, 160], 3)), 0],
      ['sum over axis 0 (a bias gradient)', 'reduce', () => tf.sum(t([256, 160], 4), 0), 1e-5],
      ['mean over [1, 2] (a global average pool)', 'reduce', () => tf.mean(t([8, 24, 24, 32], 5), [1, 2]), 1e-5],
      ['max over the last axis', 'reduce', () => tf.max(t([640, 77], 6), -1), 0],
      ['transpose [2, 0, 1]', 'transpose', () => tf.transpose(t([64, 30, 40], 7), [2, 0, 1]), 0],
      ['softmax', 'softmax', () => tf.softmax(t([400, 100], 8)), 1e-6],
      ['GELU', 'unary', () => tf.engine().runKernel(GELU, { x: t([300, 130], 9) }) as tf.Tensor, 1e-6, composedGelu],
    ];
    for (const [label, key, fn, tol, reference] of checks) {
      let got: Out[] = [];
      expect(
        callsDuring(key, () => (got = on('native', fn))),
        label,
      ).toBe(1);
      expectSame(got, on('cpu', reference ?? fn), tol, label);
    }
  });
});
