import { beforeAll, describe, expect, it } from 'vitest';
import { Attention, ParamStore, Rng, gelu, layerNorm, tf, type Tensor, type Tensor3D } from '../../../cli/api.js';
import { maxAbs, maxAbsDiff, randn, useBackend } from '../../helpers.js';

const relErr = (got: ArrayLike<number>, ref: ArrayLike<number>) => maxAbsDiff(got, ref) / Math.max(maxAbs(ref), 1e-12);
/** the autodiff form layerNorm replaces: moments, then scale and shift */
const composite = (x: Tensor, w: Tensor, b: Tensor, eps: number) => {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), w), b);
};
/** value and gradients (w.r.t. every input) of sum(f(...) * r) for a fixed random r */
function valueAndGrads(f: (...xs: Tensor[]) => Tensor, inputs: Float32Array[], shapes: number[][], seed: number) {
  return tf.tidy(() => {
    const xs = inputs.map((v, i) => tf.tensor(v, shapes[i]));
    const y = f(...xs);
    const r = tf.tensor(randn(y.shape, seed), y.shape);
    const gs = tf.grads((...a: Tensor[]) => tf.sum(tf.mul(f(...a), r)))(xs);
    return { y: y.dataSync().slice(), grads: gs.map((g) => g.dataSync().slice()) };
  });
}

describe('transformer layers: LayerNorm, GELU, attention', () => {
  beforeAll(() => useBackend('wasm'));

  const shapes = [
    [3, 7, 5],
    [2, 65, 192],
    [129, 33],
  ];
  it.each(shapes.map((s, i) => [i, s] as const))(
    'layerNorm case %i %j: values and gradients equal the autodiff of the moments, on cpu and on wasm',
    (i, shape) => {
      const d = shape[shape.length - 1];
      const inputs = [randn(shape, 10 + i).map((v) => 3 * v + 1), randn([d], 20 + i), randn([d], 30 + i)];
      const shp = [shape, [d], [d]];
      for (const backend of ['cpu', 'wasm']) {
        tf.setBackend(backend);
        const ref = valueAndGrads((x, w, b) => composite(x, w, b, 1e-6), inputs, shp, 40 + i);
        const got = valueAndGrads((x, w, b) => layerNorm(x, w, b, 1e-6), inputs, shp, 40 + i);
        expect(relErr(got.y, ref.y), backend).toBeLessThan(1e-5);
        got.grads.forEach((g, k) => expect(relErr(g, ref.grads[k]), `${backend} grad ${k}`).toBeLessThan(2e-4));
      }
    },
  );

  /** central finite differences of sum(f(x) * r) in float64 on a few coordinates of input k, against the analytic gradient */
  function fdCheck(f: (...xs: Tensor[]) => Tensor, inputs: Float32Array[], shapes: number[][], k: number, seed: number) {
    tf.setBackend('cpu');
    const { grads } = valueAndGrads(f, inputs, shapes, seed);
    const loss = (vals: Float32Array[]) =>
      tf.tidy(() => {
        const y = f(...vals.map((v, i) => tf.tensor(v, shapes[i])));
        return tf.sum(tf.mul(y, tf.tensor(randn(y.shape, seed), y.shape))).dataSync()[0];
      });
    const r = Rng.fromSeed(seed, 'fd');
    const h = 1e-2;
    for (let t = 0; t < 6; t++) {
      const j = r.int(inputs[k].length);
      const plus = inputs.map((v) => v.slice());
      const minus = inputs.map((v) => v.slice());
      plus[k][j] += h;
      minus[k][j] -= h;
      const fd = (loss(plus) - loss(minus)) / (2 * h);
      expect(Math.abs(fd - grads[k][j]), `input ${k}[${j}]: fd ${fd} analytic ${grads[k][j]}`).toBeLessThan(2e-2 * Math.max(1, Math.abs(fd)));
    }
  }

  it('finite differences: layerNorm (x, weight, bias) and GELU', () => {
    const inputs = [randn([4, 6], 1), randn([6], 2), randn([6], 3)];
    const shp = [[4, 6], [6], [6]];
    for (const k of [0, 1, 2]) fdCheck((x, w, b) => layerNorm(x, w, b, 1e-6), inputs, shp, k, 7 + k);
    fdCheck((x) => gelu(x), [randn([40], 4).map((v) => 2 * v)], [[40]], 0, 9);
  });

  it.each([[[3, 65, 768]], [[2, 7, 9]], [[4096]]])(
    'GELU on wasm (the SIMD kernels for sizes that are multiples of 4) equals the composed form on cpu, values and gradient, shape %j',
    (shape) => {
      const x = randn(shape, 61).map((v) => 3 * v);
      const run = (backend: string) => {
        tf.setBackend(backend);
        return valueAndGrads((t) => gelu(t), [x], [shape], 62);
      };
      const ref = run('cpu');
      const got = run('wasm');
      expect(relErr(got.y, ref.y)).toBeLessThan(1e-5);
      expect(relErr(got.grads[0], ref.grads[0])).toBeLessThan(1e-5);
      expect(tf.getKernel('SelfsupGelu', 'wasm')?.kernelFunc.name).toBe('simdGelu');
    },
  );

  it('GELU is x·Φ(x): known values', () => {
    // torch.nn.functional.gelu(torch.tensor([-3., -1., 0., .5, 2., -20., 20., 0.1]))
    const want = [-0.0040496, -0.1586553, 0, 0.3457312, 1.9544997, 0, 20, 0.0539828];
    for (const backend of ['cpu', 'wasm']) {
      tf.setBackend(backend);
      const y = gelu(tf.tensor1d([-3, -1, 0, 0.5, 2, -20, 20, 0.1])).dataSync();
      expect(maxAbsDiff(y, want), backend).toBeLessThan(1e-5);
    }
  });

  const attnCases: Array<[number, number, number, number]> = [
    [2, 9, 8, 2],
    [3, 17, 12, 3],
    [2, 65, 48, 3],
  ];
  it.each(attnCases.map((c, i) => [i, ...c] as const))(
    'attention case %i (N %i, T %i, D %i, heads %i): wasm equals cpu, outputs, weights and gradients',
    (i, n, t, d, heads) => {
      const run = (backend: string) => {
        tf.setBackend(backend);
        const store = new ParamStore('attn', Rng.fromSeed(3));
        const attn = new Attention(store, 'attn', d, heads);
        const x = tf.tensor3d(randn([n, t, d], 50 + i), [n, t, d]);
        const vars = store.trainable().map((p) => p.variable);
        const { value, grads } = tf.variableGrads(() => {
          const { out, attention } = attn.apply(x);
          return tf.add(tf.sum(tf.square(out)), tf.sum(tf.mul(attention, 3))) as tf.Scalar;
        }, vars);
        const { out, attention } = attn.apply(x);
        const res = {
          loss: value.dataSync()[0],
          out: out.dataSync().slice(),
          attention: attention.dataSync().slice(),
          grads: vars.map((v) => grads[v.name].dataSync().slice()),
        };
        store.dispose();
        return res;
      };
      const ref = run('cpu');
      const got = run('wasm');
      expect(relErr(got.out, ref.out)).toBeLessThan(1e-5);
      expect(relErr(got.attention, ref.attention)).toBeLessThan(1e-5);
      got.grads.forEach((g, k) => expect(relErr(g, ref.grads[k]), `grad ${k}`).toBeLessThan(1e-4));
    },
  );

  it('finite differences: attention, through q, k, v and the softmax', () => {
    const [n, t, d, heads] = [1, 5, 4, 2];
    const store = new ParamStore('attn', Rng.fromSeed(4));
    const attn = new Attention(store, 'attn', d, heads);
    fdCheck((x) => attn.apply(x as Tensor3D).out, [randn([n, t, d], 11)], [[n, t, d]], 0, 12);
  });
});
