import { beforeAll, describe, expect, it } from 'vitest';
import { PluginRegistry, Rng, tf, type Scalar, type Tensor } from '../../../cli/api.js';
import barlowTwins from '../../../plugins/losses/barlow-twins.js';
import { randn, useBackend } from '../../helpers.js';

const ctx = { seed: 0, rng: Rng.fromSeed(0), path: '/loss', registry: new PluginRegistry(), log: () => {} };
const progress = { step: 0, totalSteps: 10, epoch: 0, stepsPerEpoch: 10, fraction: 0 };
const defaults = { lambda: 5e-3, scaleLoss: 1, eps: 1e-5, output: 'z', branch: 'online' as const };
type Out = { loss: Scalar; terms: Record<string, Scalar> };

async function run(z1: Tensor, z2: Tensor, opts: Partial<typeof defaults> = {}): Promise<Out> {
  const loss = await barlowTwins.create({ ...defaults, ...opts }, ctx);
  const index = Int32Array.from({ length: z1.shape[0] }, (_, i) => i);
  return loss.compute({ online: [{ z: z1 }, { z: z2 }], index, progress }) as Out;
}

/** The paper's loss in double precision: BatchNorm1d (biased variance, eps) per column, C = a^T b / N. */
function barlowLoop(a: number[][], b: number[][], lambda: number, scale = 1, eps = 1e-5) {
  const [n, d] = [a.length, a[0].length];
  const bn = (z: number[][]) => {
    const out = z.map((r) => r.slice());
    for (let j = 0; j < d; j++) {
      const mean = z.reduce((s, r) => s + r[j], 0) / n;
      const variance = z.reduce((s, r) => s + (r[j] - mean) ** 2, 0) / n;
      for (let i = 0; i < n; i++) out[i][j] = (z[i][j] - mean) / Math.sqrt(variance + eps);
    }
    return out;
  };
  const [an, bnn] = [bn(a), bn(b)];
  let onDiag = 0;
  let offDiag = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let c = 0;
      for (let k = 0; k < n; k++) c += an[k][i] * bnn[k][j];
      c /= n;
      if (i === j) onDiag += (1 - c) ** 2;
      else offDiag += c ** 2;
    }
  }
  return { loss: scale * (onDiag + lambda * offDiag), onDiag, offDiag };
}

const rows = (a: Float32Array, n: number, d: number) => Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * d, (i + 1) * d)));
const num = (t: Tensor) => t.dataSync()[0];

/** N = 4, D = 3: the non-constant columns of a 4x4 Hadamard matrix, scaled and shifted (BN undoes both). */
const hadamard = (): Tensor =>
  tf
    .tensor2d([
      [1, 1, 1],
      [-1, 1, -1],
      [1, -1, -1],
      [-1, -1, 1],
    ])
    .mul(tf.tensor1d([2, 1, 3]))
    .add(tf.tensor1d([1, -2, 0.5]));

describe('barlow-twins', () => {
  beforeAll(() => useBackend('cpu'));

  it('is 0 for identical views with orthonormal normalised columns, and onDiag = 4D for z2 = -z1', async () => {
    const z = hadamard();
    const same = await run(z, z);
    expect(Math.abs(num(same.loss))).toBeLessThan(1e-5);
    expect(Math.abs(num(same.terms.offDiag))).toBeLessThan(1e-5);
    const opposite = await run(z, tf.neg(z));
    // C = -I up to BN's eps: C_ii = -var/(var + eps) with var = 4, 1, 9, so onDiag is 4D less ~5e-5
    const exact = [4, 1, 9].reduce((s, v) => s + (1 + v / (v + 1e-5)) ** 2, 0);
    expect(Math.abs(exact - 4 * 3)).toBeLessThan(1e-4);
    expect(Math.abs(num(opposite.terms.onDiag) - exact)).toBeLessThan(1e-5);
    expect(Math.abs(num(opposite.terms.offDiag))).toBeLessThan(1e-5);
  });

  it('matches a double-precision loop on random inputs to 1e-5 relative (loss and both terms)', async () => {
    for (const [n, d, lambda, scale] of [
      [8, 6, 5e-3, 1],
      [16, 4, 0.1, 1 / 32],
      [5, 10, 1, 1],
    ] as const) {
      const a = randn([n, d], n);
      const b = randn([n, d], n + 50);
      const got = await run(tf.tensor2d(a, [n, d]), tf.tensor2d(b, [n, d]), { lambda, scaleLoss: scale });
      const ref = barlowLoop(rows(a, n, d), rows(b, n, d), lambda, scale);
      for (const [g, r] of [
        [num(got.loss), ref.loss],
        [num(got.terms.onDiag), ref.onDiag],
        [num(got.terms.offDiag), ref.offDiag],
      ]) {
        // every term here is O(1) or more, so float32 sums of n*d*d products stay within 1e-5 relative
        expect(Math.abs(g - r) / Math.abs(r)).toBeLessThan(1e-5);
      }
    }
  });

  it('has the gradient of a central finite difference of the double-precision loop', async () => {
    const [n, d, lambda] = [6, 4, 0.2];
    const a = randn([n, d], 7);
    const b = randn([n, d], 8);
    const loss = await barlowTwins.create({ ...defaults, lambda }, ctx);
    const z2 = tf.tensor2d(b, [n, d]);
    const f = (z1: Tensor) => (loss.compute({ online: [{ z: z1 }, { z: z2 }], index: new Int32Array(n), progress }) as Out).loss;
    const grad = tf
      .grad(f)(tf.tensor2d(a, [n, d]))
      .dataSync();
    const h = 1e-6;
    let maxErr = 0;
    let maxG = 0;
    for (let k = 0; k < n * d; k++) {
      const plus = rows(a, n, d);
      const minus = rows(a, n, d);
      plus[Math.floor(k / d)][k % d] += h;
      minus[Math.floor(k / d)][k % d] -= h;
      const fd = (barlowLoop(plus, rows(b, n, d), lambda).loss - barlowLoop(minus, rows(b, n, d), lambda).loss) / (2 * h);
      maxErr = Math.max(maxErr, Math.abs(grad[k] - fd));
      maxG = Math.max(maxG, Math.abs(fd));
    }
    // the finite difference is in double precision; the float32 backward pass through BN is good to ~1e-5 of the largest entry
    expect(maxErr).toBeLessThan(1e-4 * maxG);
  });

  it("reads view 1 from the target branch with branch 'target', and says which views it reads", async () => {
    const [n, d] = [8, 5];
    const a = tf.tensor2d(randn([n, d], 1), [n, d]);
    const b = tf.tensor2d(randn([n, d], 2), [n, d]);
    const plugin = await barlowTwins.create({ ...defaults, branch: 'target' }, ctx);
    expect(plugin.viewsRead!(2)).toEqual({ online: [0], target: [1] });
    const viaTarget = plugin.compute({
      online: [{ z: a }, { z: tf.zerosLike(b) }],
      target: [{ z: tf.zerosLike(a) }, { z: b }],
      index: new Int32Array(n),
      progress,
    }) as Out;
    expect(Math.abs(num(viaTarget.loss) - num((await run(a, b)).loss))).toBeLessThan(1e-6);
    expect((await barlowTwins.create(defaults, ctx)).viewsRead!(2)).toEqual({ online: [0, 1], target: [] });
  });
});
