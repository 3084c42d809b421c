import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, createRegistry, tf } from '../../../cli/api.js';
import negativeCosine from '../../../plugins/losses/negative-cosine.js';
import { maxAbs, randn, useBackend } from '../../helpers.js';

const registry = createRegistry();
const dataset = { name: 't', height: 28, width: 28, channels: 1, numClasses: 10, mean: [0.5], std: [0.25] };
const ctx = { seed: 0, rng: Rng.fromSeed(0), path: '/x', registry, log: () => {}, dataset };
const progress = { step: 0, totalSteps: 10, epoch: 0, stepsPerEpoch: 10, fraction: 0 };
const defaults = { online: 'p', target: 'z', stopGradient: true };
const index = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
const input = (p: tf.Tensor[], z: tf.Tensor[]) => ({
  // the online z is a decoy (-p): a loss that read it instead of the target's z would miss the references
  online: p.map((t) => ({ z: tf.neg(t), p: t })),
  target: z.map((t) => ({ z: t })),
  index: index(p[0].shape[0]),
  progress,
});
const value = (out: unknown) => (out as tf.Scalar).dataSync()[0];
const rows = (a: Float32Array, n: number, d: number) => Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * d, (i + 1) * d)));

/** SimSiam's L = ½ D(p1, z2) + ½ D(p2, z1), D = −mean_n cos, as the paper writes it. */
function simsiamLoop(p: number[][][], z: number[][][]): number {
  const cos = (u: number[], w: number[]) => u.reduce((s, x, j) => s + x * w[j], 0) / (Math.hypot(...u) * Math.hypot(...w));
  const D = (ps: number[][], zs: number[][]) => -ps.reduce((s, pi, n) => s + cos(pi, zs[n]), 0) / ps.length;
  return 0.5 * D(p[0], z[1]) + 0.5 * D(p[1], z[0]);
}

describe('negative-cosine (SimSiam)', () => {
  beforeAll(() => useBackend('cpu', registry));

  it('is −1 for equal directions and +1 for opposite ones', async () => {
    const loss = await negativeCosine.create(defaults, ctx);
    const p = [tf.tensor2d(randn([6, 8], 1), [6, 8]), tf.tensor2d(randn([6, 8], 2), [6, 8])];
    expect(value(loss.compute(input(p, [tf.mul(p[1], 3), tf.mul(p[0], 0.2)])))).toBeCloseTo(-1, 5);
    expect(value(loss.compute(input(p, [tf.mul(p[1], -3), tf.mul(p[0], -0.2)])))).toBeCloseTo(1, 5);
    expect(loss.viewsRead?.(2)).toEqual({ online: [0, 1], target: [0, 1] });
  });

  it('matches a plain-JS reference on random data to 1e-5', async () => {
    const loss = await negativeCosine.create(defaults, ctx);
    for (const [n, d, seed] of [
      [5, 7, 10],
      [16, 32, 20],
      [3, 4, 30],
    ]) {
      const raw = [0, 1, 2, 3].map((k) => randn([n, d], seed + k));
      const [p0, p1, z0, z1] = raw.map((a) => tf.tensor2d(a, [n, d]));
      const expected = simsiamLoop([rows(raw[0], n, d), rows(raw[1], n, d)], [rows(raw[2], n, d), rows(raw[3], n, d)]);
      expect(Math.abs(value(loss.compute(input([p0, p1], [z0, z1]))) - expected)).toBeLessThan(1e-5);
    }
  });

  it('stops the gradient at z by default; stopGradient false lets it through', async () => {
    const [n, d] = [4, 6];
    const ts = [0, 1, 2, 3].map((k) => tf.tensor2d(randn([n, d], 40 + k), [n, d]));
    for (const stop of [true, false]) {
      const loss = await negativeCosine.create({ ...defaults, stopGradient: stop }, ctx);
      const g = tf.grads((p0, p1, z0, z1) => loss.compute(input([p0, p1], [z0, z1])) as tf.Scalar)(ts);
      expect(maxAbs(g[0].dataSync())).toBeGreaterThan(1e-4);
      expect(maxAbs(g[1].dataSync())).toBeGreaterThan(1e-4);
      if (stop) {
        expect(Array.from(g[2].dataSync()).every((x) => x === 0)).toBe(true);
        expect(Array.from(g[3].dataSync()).every((x) => x === 0)).toBe(true);
      } else expect(maxAbs(g[3].dataSync())).toBeGreaterThan(1e-4);
    }
  });
});
