import { beforeAll, describe, expect, it } from 'vitest';
import { PluginRegistry, Rng, tf, type Scalar, type Tensor } from '../../../cli/api.js';
import vicreg from '../../../plugins/losses/vicreg.js';
import { randn, useBackend } from '../../helpers.js';

const ctx = { seed: 0, rng: Rng.fromSeed(0), path: '/loss', registry: new PluginRegistry(), log: () => {} };
const progress = { step: 0, totalSteps: 10, epoch: 0, stepsPerEpoch: 10, fraction: 0 };
const defaults = { invariance: 25, variance: 25, covariance: 1, eps: 1e-4, output: 'z', branch: 'online' as const };
type Out = { loss: Scalar; terms: Record<string, Scalar> };

async function run(z1: Tensor, z2: Tensor, opts: Partial<typeof defaults> = {}): Promise<Out> {
  const loss = await vicreg.create({ ...defaults, ...opts }, ctx);
  const index = Int32Array.from({ length: z1.shape[0] }, (_, i) => i);
  return loss.compute({ online: [{ z: z1 }, { z: z2 }], index, progress }) as Out;
}

/** VICReg as the paper's Algorithm 1 / main_vicreg.py computes it, in double precision. */
function vicregLoop(a: number[][], b: number[][], w = defaults) {
  const [n, d] = [a.length, a[0].length];
  let invariance = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) invariance += (a[i][j] - b[i][j]) ** 2 / (n * d);
  const centred = (z: number[][]) => {
    const mean = Array.from({ length: d }, (_, j) => z.reduce((s, r) => s + r[j], 0) / n);
    return z.map((r) => r.map((x, j) => x - mean[j]));
  };
  const cov = (zc: number[][], i: number, j: number) => zc.reduce((s, r) => s + r[i] * r[j], 0) / (n - 1);
  const v = (zc: number[][]) => Array.from({ length: d }, (_, j) => Math.max(0, 1 - Math.sqrt(cov(zc, j, j) + w.eps))).reduce((s, x) => s + x, 0) / d;
  const c = (zc: number[][]) => {
    let s = 0;
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) if (i !== j) s += cov(zc, i, j) ** 2;
    return s / d;
  };
  const [ca, cb] = [centred(a), centred(b)];
  const variance = (v(ca) + v(cb)) / 2;
  const covariance = c(ca) + c(cb);
  return { loss: w.invariance * invariance + w.variance * variance + w.covariance * covariance, invariance, variance, covariance };
}

const rows = (a: Float32Array, n: number, d: number) => Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * d, (i + 1) * d)));
const num = (t: Tensor) => t.dataSync()[0];

describe('vicreg', () => {
  beforeAll(() => useBackend('cpu'));

  it('identical views give invariance 0; std >= 1 in every dim gives variance 0; uncorrelated dims give covariance 0', async () => {
    // N = 4, D = 3: the non-constant Hadamard columns, scaled by >= 1 (unbiased std = s * sqrt(4/3)) and shifted
    const z = tf
      .tensor2d([
        [1, 1, 1],
        [-1, 1, -1],
        [1, -1, -1],
        [-1, -1, 1],
      ])
      .mul(tf.tensor1d([2, 1, 3]))
      .add(tf.tensor1d([1, -2, 0.5]));
    const out = await run(z, z);
    expect(num(out.terms.invariance)).toBe(0);
    expect(num(out.terms.variance)).toBe(0);
    expect(Math.abs(num(out.terms.covariance))).toBeLessThan(1e-6);
    expect(Math.abs(num(out.loss))).toBeLessThan(1e-6);
    // a collapsed batch: every std is 0, so variance = 1 - sqrt(eps) = 0.99 and the loss 25 * 0.99
    const flat = await run(tf.ones([8, 5]), tf.ones([8, 5]));
    expect(Math.abs(num(flat.terms.variance) - 0.99)).toBeLessThan(1e-6);
    expect(Math.abs(num(flat.loss) - 25 * 0.99)).toBeLessThan(1e-5);
  });

  it('matches a double-precision loop on random inputs (loss and the three unweighted terms)', async () => {
    // scales 0.5 and 2 put some dims on each side of the std hinge at 1
    for (const [n, d, scale] of [
      [8, 6, 1],
      [16, 4, 0.5],
      [5, 10, 2],
    ] as const) {
      const a = randn([n, d], n).map((x) => x * scale);
      const b = randn([n, d], n + 50).map((x, i) => x * (i % 2 ? scale : 1));
      const got = await run(tf.tensor2d(a, [n, d]), tf.tensor2d(b, [n, d]));
      const ref = vicregLoop(rows(a, n, d), rows(b, n, d));
      for (const k of ['invariance', 'variance', 'covariance'] as const) {
        // 1e-5 relative, or 1e-6 absolute for a term that is (near) 0, where float32 rounding of 1 - std dominates
        expect(Math.abs(num(got.terms[k]) - ref[k])).toBeLessThan(Math.max(1e-5 * Math.abs(ref[k]), 1e-6));
      }
      expect(Math.abs(num(got.loss) - ref.loss) / ref.loss).toBeLessThan(1e-5);
    }
  });

  it('has the gradient of a central finite difference of the double-precision loop', async () => {
    const [n, d] = [6, 4];
    // std ~0.3: every dim is inside the hinge, away from the kink at std = 1
    const a = randn([n, d], 7).map((x) => 0.3 * x);
    const b = randn([n, d], 8).map((x) => 0.3 * x);
    const loss = await vicreg.create(defaults, ctx);
    const z2 = tf.tensor2d(b, [n, d]);
    const f = (z1: Tensor) => (loss.compute({ online: [{ z: z1 }, { z: z2 }], index: new Int32Array(n), progress }) as Out).loss;
    const grad = tf
      .grad(f)(tf.tensor2d(a, [n, d]))
      .dataSync();
    const h = 1e-6;
    let maxErr = 0;
    let maxG = 0;
    for (let k = 0; k < n * d; k++) {
      const [plus, minus] = [rows(a, n, d), rows(a, n, d)];
      plus[Math.floor(k / d)][k % d] += h;
      minus[Math.floor(k / d)][k % d] -= h;
      const fd = (vicregLoop(plus, rows(b, n, d)).loss - vicregLoop(minus, rows(b, n, d)).loss) / (2 * h);
      maxErr = Math.max(maxErr, Math.abs(grad[k] - fd));
      maxG = Math.max(maxG, Math.abs(fd));
    }
    // the finite difference is in double precision; the float32 backward pass is good to ~1e-5 of the largest entry
    expect(maxErr).toBeLessThan(1e-4 * maxG);
  });

  it('refuses a batch of one, with a sentence', async () => {
    await expect(run(tf.ones([1, 3]), tf.ones([1, 3]))).rejects.toThrow(/at least 2/);
  });
});
