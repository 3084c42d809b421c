import crypto from 'node:crypto';
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchNorm, ParamStore, Rng, createRegistry, tf } from '../../../cli/api.js';
import { KERNELS_SOURCE_SHA256, conv2dBackpropFilterViaConv, conv2dBackpropInputViaPhases } from '../../../core/engine/index.js';
import { maxAbs, maxAbsDiff, randn, useBackend } from '../../helpers.js';
import { MANY_POSITIONS, convGrads, randomConvCases, relErr } from './conv-cases.js';

/** replace `name` on wasm by `config` while `fn` runs */
function withKernel(name: string, config: tf.KernelConfig, fn: () => void): void {
  const current = tf.getKernel(name, 'wasm')!;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel(config);
  try {
    fn();
  } finally {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(current);
  }
}

describe("selfsup's SIMD kernels on wasm (core/engine/simd)", () => {
  beforeAll(async () => {
    const registry = createRegistry();
    await useBackend('cpu', registry);
    await useBackend('wasm', registry);
  });

  it('the committed wasm binary was built from kernels.c as it is (rebuild: bash core/engine/simd/build.sh)', () => {
    const sha = crypto.createHash('sha256').update(fs.readFileSync('core/engine/simd/kernels.c')).digest('hex');
    expect(KERNELS_SOURCE_SHA256).toBe(sha);
  });

  it('registers the SIMD convolution-gradient, batch-norm and Reverse kernels on wasm', () => {
    expect(tf.getKernel('Conv2D', 'wasm')?.kernelFunc.name).toBe('simdConv2D');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc.name).toBe('simdConv2DBackpropFilter');
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc.name).toBe('simdConv2DBackpropInput');
    expect(tf.getKernel('Reverse', 'wasm')?.kernelFunc.name).toBe('simdReverse');
    expect(tf.getKernel('Slice', 'wasm')?.kernelFunc.name).toBe('simdSlice');
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc.name).toBe('untransposedBatchMatMul');
    expect(tf.getKernel('SelfsupBatchNormTrain', 'wasm')?.kernelFunc.name).toBe('simdBatchNormTrain');
    expect(tf.getKernel('SelfsupBatchNormTrainGrad', 'wasm')?.kernelFunc.name).toBe('simdBatchNormTrainGrad');
    expect(tf.getKernel('SelfsupBatchNormTrain', 'cpu')).toBeUndefined();
  });

  const cases = randomConvCases(24, 6);
  it.each(cases.map((c, i) => [i, c.xs, c.fs, c.stride, c.pad] as const))(
    'Conv2DBackprop{Filter,Input} random case %i: x %j, filter %j, stride %j, pad %j equal cpu',
    (i) => {
      const c = cases[i];
      const ref = convGrads('cpu', c, 100 + i);
      const got = convGrads('wasm', c, 100 + i);
      expect(got.dw.length).toBe(ref.dw.length);
      expect(got.dx.length).toBe(ref.dx.length);
      expect(maxAbs(ref.dw)).toBeGreaterThan(0);
      expect(relErr(got.dw, ref.dw)).toBeLessThan(1e-5);
      expect(relErr(got.dx, ref.dx)).toBeLessThan(1e-5);
    },
  );

  it('both convolution gradients over many positions (one block boundary after another) equal cpu', () => {
    for (const c of MANY_POSITIONS) {
      const ref = convGrads('cpu', c, 7);
      const got = convGrads('wasm', c, 7);
      expect(relErr(got.dw, ref.dw)).toBeLessThan(1e-5);
      expect(relErr(got.dx, ref.dx)).toBeLessThan(1e-5);
    }
  });

  it.each(cases.map((c, i) => [i, c.xs, c.fs, c.stride, c.pad] as const))(
    'Conv2D random case %i: x %j, filter %j, stride %j, pad %j, dilation 1 and 2 (stride 1) equals cpu',
    (i) => {
      const c = cases[i];
      const run = (b: string, dilation: number) => {
        tf.setBackend(b);
        return tf.tidy(() => {
          const stride = dilation > 1 ? 1 : c.stride;
          if (dilation > 1 && (c.xs[1] < 2 * c.fs[0] || c.xs[2] < 2 * c.fs[1])) return new Float32Array([1]);
          return tf
            .conv2d(tf.tensor4d(randn(c.xs, i), c.xs), tf.tensor4d(randn(c.fs, i + 1), c.fs), stride, c.pad as never, 'NHWC', dilation)
            .dataSync()
            .slice() as Float32Array;
        });
      };
      for (const d of [1, 2]) {
        const ref = run('cpu', d);
        expect(maxAbs(ref)).toBeGreaterThan(0);
        expect(relErr(run('wasm', d), ref), `dilation ${d}`).toBeLessThan(1e-5);
      }
    },
  );

  it('Conv2D with a filter over 512 KB (the backend kernel) and on many positions (the SIMD kernel) equals cpu', () => {
    for (const [xs, fs] of [
      [
        [2, 6, 6, 256],
        [3, 3, 256, 128],
      ],
      [
        [9, 28, 28, 8],
        [3, 3, 8, 16],
      ],
    ] as Array<[[number, number, number, number], [number, number, number, number]]>) {
      const run = (b: string) => {
        tf.setBackend(b);
        return tf.tidy(() =>
          tf
            .conv2d(tf.tensor4d(randn(xs, 1), xs), tf.tensor4d(randn(fs, 2), fs), 1, 'same')
            .dataSync()
            .slice(),
        );
      };
      expect(relErr(run('wasm'), run('cpu'))).toBeLessThan(1e-5);
    }
  });

  it('the composite fallbacks (the gradients from XNNPACK Conv2Ds, used without SIMD) still equal cpu', () => {
    withKernel('Conv2DBackpropFilter', conv2dBackpropFilterViaConv('wasm'), () =>
      withKernel('Conv2DBackpropInput', conv2dBackpropInputViaPhases('wasm'), () => {
        for (const [i, c] of cases.slice(0, 10).entries()) {
          const ref = convGrads('cpu', c, 100 + i);
          const got = convGrads('wasm', c, 100 + i);
          expect(relErr(got.dw, ref.dw)).toBeLessThan(1e-5);
          expect(relErr(got.dx, ref.dx)).toBeLessThan(1e-5);
        }
      }),
    );
  });

  it('Reverse equals cpu for every axis subset of ranks 1-4 (negative axes too), and int32 falls back to the stock kernel', () => {
    const shapes = [[7], [3, 5], [2, 3, 5], [256, 28, 28, 1], [2, 3, 4, 5]];
    for (const shape of shapes) {
      const rank = shape.length;
      for (let mask = 1; mask < 1 << rank; mask++) {
        const axes = [...Array(rank).keys()].filter((a) => mask & (1 << a)).map((a, j) => (j % 2 ? a - rank : a));
        const run = (b: string) => {
          tf.setBackend(b);
          return tf.tidy(() =>
            tf
              .reverse(tf.tensor(randn(shape, mask), shape), axes)
              .dataSync()
              .slice(),
          );
        };
        expect(maxAbsDiff(run('wasm'), run('cpu')), `${shape} ${axes}`).toBe(0);
      }
    }
    tf.setBackend('wasm');
    expect(Array.from(tf.reverse(tf.tensor1d([1, 2, 3], 'int32')).dataSync())).toEqual([3, 2, 1]);
    // no axis: every axis
    expect(Array.from(tf.reverse(tf.tensor2d([1, 2, 3, 4], [2, 2])).dataSync())).toEqual([4, 3, 2, 1]);
  });

  it('Slice equals cpu for random begins and sizes of ranks 1-4, and int32 falls back to the stock kernel', () => {
    const r = Rng.fromSeed(3, 'slices');
    const shapes = [[9], [5, 7], [3, 6, 5], [4, 28, 30, 1], [3, 4, 5, 6]];
    for (const shape of shapes) {
      for (let trial = 0; trial < 6; trial++) {
        const begin = shape.map((d) => Math.floor(r.uniform() * d));
        const size = shape.map((d, i) => (trial === 0 && i === 0 ? -1 : 1 + Math.floor(r.uniform() * (d - begin[i]))));
        const run = (b: string) => {
          tf.setBackend(b);
          return tf.tidy(() => {
            const y = tf.slice(tf.tensor(randn(shape, trial), shape), begin, size);
            return { shape: y.shape, v: y.dataSync().slice() };
          });
        };
        const [got, ref] = [run('wasm'), run('cpu')];
        expect(got.shape, `${shape} ${begin} ${size}`).toEqual(ref.shape);
        expect(maxAbsDiff(got.v, ref.v), `${shape} ${begin} ${size}`).toBe(0);
      }
    }
    tf.setBackend('wasm');
    expect(Array.from(tf.slice(tf.tensor1d([1, 2, 3, 4], 'int32'), 1, 2).dataSync())).toEqual([2, 3]);
  });

  it('BatchMatMul with transposed operands (pre-transposed for XNNPACK) equals cpu, batched and not', () => {
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[37, 19], [37, 23], true, false],
      [[19, 37], [23, 37], false, true],
      [[37, 19], [23, 37], true, true],
      [[3, 8, 5], [3, 6, 8], true, true],
      [[2, 5, 8], [2, 7, 8], false, true],
      [[19, 37], [37, 23], false, false],
    ];
    for (const [as, bs, ta, tb] of cases) {
      const run = (b: string) => {
        tf.setBackend(b);
        return tf.tidy(() =>
          tf
            .matMul(tf.tensor(randn(as, 1), as as never) as tf.Tensor2D, tf.tensor(randn(bs, 2), bs as never) as tf.Tensor2D, ta, tb)
            .dataSync()
            .slice(),
        );
      };
      const ref = run('cpu');
      expect(relErr(run('wasm'), ref), `${as} ${bs} ${ta} ${tb}`).toBeLessThan(1e-5);
    }
  });

  it('BatchMatMul on the SIMD kernel (attention-sized, row and column remainders, a shared b, transposes, thread splits inside a batch) equals cpu', () => {
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[96, 65, 64], [96, 64, 65], false, false], // attention QK^T-shaped: 96 batches of 65 x 65
      [[6, 67, 45], [6, 45, 37], false, false], // M % 4 = 3, N % 8 = 5
      [[2, 3, 33, 70], [2, 3, 70, 19], false, false], // rank 4 (B, heads, T, d)
      [[7, 41, 30], [30, 53], false, false], // b shared by every batch
      [[9, 50, 31], [9, 29, 50], true, true], // both transposed: made plain, then SIMD
      [[203, 96], [96, 131], false, false], // one batch, rows split between threads
      [[1, 5, 3], [1, 3, 4], false, false], // tiny: the backend's kernel
    ];
    for (const [as, bs, ta, tb] of cases) {
      const run = (b: string) => {
        tf.setBackend(b);
        return tf.tidy(() =>
          tf
            .matMul(tf.tensor(randn(as, 3), as as never) as tf.Tensor3D, tf.tensor(randn(bs, 4), bs as never) as tf.Tensor3D, ta, tb)
            .dataSync()
            .slice(),
        );
      };
      const ref = run('cpu');
      const got = run('wasm');
      expect(got.length, `${as} ${bs}`).toBe(ref.length);
      expect(relErr(got, ref), `${as} ${bs} ${ta} ${tb}`).toBeLessThan(1e-5);
    }
    // and the gradients through it (the backward pass is two more products with transposed operands)
    const grads = (b: string) => {
      tf.setBackend(b);
      return tf.tidy(() => {
        const a = tf.tensor3d(randn([4, 37, 24], 5), [4, 37, 24]);
        const w = tf.tensor3d(randn([4, 24, 29], 6), [4, 24, 29]);
        const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D))))([a, w]);
        return g.map((t) => t.dataSync().slice());
      });
    };
    const [ra, rw] = grads('cpu');
    const [ga, gw] = grads('wasm');
    expect(relErr(ga, ra)).toBeLessThan(1e-5);
    expect(relErr(gw, rw)).toBeLessThan(1e-5);
  });

  it('selecting wasm again keeps one kernel module, and int32 Reverse and Slice still reach the stock kernels', async () => {
    const { registerSimdKernels } = await import('../../../core/engine/index.js');
    await useBackend('wasm');
    const a = await registerSimdKernels('wasm', 2);
    const b = await registerSimdKernels('wasm', 2);
    expect(b.module).toBe(a.module);
    tf.setBackend('wasm');
    expect(Array.from(tf.reverse(tf.tensor1d([1, 2, 3], 'int32')).dataSync())).toEqual([3, 2, 1]);
    expect(Array.from(tf.slice(tf.tensor1d([1, 2, 3, 4], 'int32'), 1, 2).dataSync())).toEqual([2, 3]);
    expect(Array.from(tf.reverse(tf.tensor1d([1, 2, 3])).dataSync())).toEqual([3, 2, 1]);
  });

  /** BatchNorm in training mode: y, batch mean and variance, and the three gradients for a fixed dy */
  function bnRun(backend: string, shape: number[], relu: boolean, seed: number) {
    tf.setBackend(backend);
    const c = shape[shape.length - 1];
    const bn = new BatchNorm(new ParamStore('bn'), 'bn', { channels: c, momentum: 1 });
    tf.tidy(() => {
      bn.gamma!.assign(tf.tensor1d(randn([c], seed + 1)));
      bn.beta!.assign(tf.tensor1d(randn([c], seed + 2)));
    });
    // an offset mean and a spread per channel, as activations have
    const x = tf.tidy(() => tf.add(tf.mul(tf.tensor(randn(shape, seed), shape), 3), 5));
    const dy = tf.tensor(randn(shape, seed + 3), shape);
    const y = tf.tidy(() => bn.apply(x, true, relu).dataSync().slice());
    const n = x.size / c;
    const mean = bn.runningMean.dataSync().slice();
    const variance = tf.tidy(() =>
      tf
        .mul(bn.runningVar, (n - 1) / n)
        .dataSync()
        .slice(),
    );
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(bn.apply(x, true, relu), dy)) as tf.Scalar, [bn.gamma!, bn.beta!]);
    const dx = tf.tidy(() =>
      tf
        .grad((a: tf.Tensor) => bn.apply(a, true, relu))(x, dy)
        .dataSync()
        .slice(),
    );
    const out = { y, mean, variance, dx, dgamma: grads[bn.gamma!.name].dataSync().slice(), dbeta: grads[bn.beta!.name].dataSync().slice() };
    tf.dispose([x, dy, grads[bn.gamma!.name], grads[bn.beta!.name]]);
    bn.gamma!.dispose();
    bn.beta!.dispose();
    bn.runningMean.dispose();
    bn.runningVar.dispose();
    return out;
  }

  const bnCases: Array<[number[], boolean]> = [
    [[4, 6, 6, 8], true],
    [[4, 6, 6, 8], false],
    [[3, 5, 7, 5], true],
    [[2, 9, 9, 37], true],
    [[513, 13], false],
    [[64, 28, 28, 4], true],
  ];
  it.each(bnCases.map((c, i) => [i, ...c] as const))(
    'batch norm case %i: x %j, relu %s: outputs, statistics and gradients equal the composed ops on cpu',
    (i, shape, relu) => {
      const ref = bnRun('cpu', shape, relu, 10 * i);
      const got = bnRun('wasm', shape, relu, 10 * i);
      for (const k of ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'] as const) {
        expect(got[k].length, k).toBe(ref[k].length);
        expect(maxAbs(ref[k]), k).toBeGreaterThan(0);
        expect(maxAbsDiff(got[k], ref[k]) / maxAbs(ref[k]), k).toBeLessThan(2e-5);
      }
    },
  );

  it('batch norm gradient check on wasm: dx and dgamma match finite differences of the loss', () => {
    tf.setBackend('wasm');
    const shape = [3, 4, 4, 6];
    const bn = new BatchNorm(new ParamStore('bn'), 'bn', { channels: 6 });
    tf.tidy(() => bn.gamma!.assign(tf.tensor1d([1.5, -0.5, 2, 0.7, 1, -1.2])));
    const x0 = randn(shape, 3);
    const w = tf.tensor(randn(shape, 4), shape);
    const loss = (xv: Float32Array) => tf.tidy(() => tf.sum(tf.mul(tf.square(bn.apply(tf.tensor(xv, shape), true, true)), w)).dataSync()[0]);
    const g = tf.tidy(() =>
      tf
        .grad((a: tf.Tensor) => tf.sum(tf.mul(tf.square(bn.apply(a, true, true)), w)))(tf.tensor(x0, shape))
        .dataSync()
        .slice(),
    );
    for (const idx of [0, 13, 41, 77, 200, 287]) {
      const eps = 1e-2;
      const p = x0.slice();
      const m = x0.slice();
      p[idx] += eps;
      m[idx] -= eps;
      const fd = (loss(p) - loss(m)) / (2 * eps);
      expect(Math.abs(fd - g[idx])).toBeLessThan(3e-2 * Math.max(1, Math.abs(g[idx])));
    }
    w.dispose();
  });
});
