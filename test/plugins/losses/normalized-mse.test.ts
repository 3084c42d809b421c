import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, createRegistry, tf } from '../../../cli/api.js';
import normalizedMse from '../../../plugins/losses/normalized-mse.js';
import { maxAbs, randn, useBackend } from '../../helpers.js';

const registry = createRegistry();
const dataset = { name: 't', height: 28, width: 28, channels: 1, numClasses: 10, mean: [0.5], std: [0.25] };
const ctx = { seed: 0, rng: Rng.fromSeed(0), path: '/x', registry, log: () => {}, dataset };
const progress = { step: 0, totalSteps: 10, epoch: 0, stepsPerEpoch: 10, fraction: 0 };
const defaults = { online: 'p', target: 'z', reduction: 'sum' as const, stopGradient: false };
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

/** BYOL's loss as the paper writes it: Σ over ordered view pairs of mean_n ‖p/‖p‖ − z/‖z‖‖². */
function byolLoop(p: number[][][], z: number[][][]): number {
  const nrm = (v: number[]) => v.map((x) => x / Math.hypot(...v));
  let total = 0;
  for (const [a, b] of [
    [0, 1],
    [1, 0],
  ]) {
    let s = 0;
    p[a].forEach((pi, n) => {
      const [u, w] = [nrm(pi), nrm(z[b][n])];
      s += u.reduce((acc, x, j) => acc + (x - w[j]) ** 2, 0);
    });
    total += s / p[a].length;
  }
  return total;
}

describe('normalized-mse (BYOL)', () => {
  beforeAll(() => useBackend('cpu', registry));

  it('is 0 for equal directions and 4 per view pair for opposite ones; mean halves the sum', async () => {
    const loss = await normalizedMse.create(defaults, ctx);
    const p = [tf.tensor2d(randn([6, 8], 1), [6, 8]), tf.tensor2d(randn([6, 8], 2), [6, 8])];
    const same = [tf.mul(p[1], 3), tf.mul(p[0], 3)]; // z'_1 = 3·p_0, z'_0 = 3·p_1
    expect(value(loss.compute(input(p, same)))).toBeCloseTo(0, 5);
    const opposite = [tf.mul(p[1], -2), tf.mul(p[0], -0.5)];
    expect(value(loss.compute(input(p, opposite)))).toBeCloseTo(8, 5);
    const mean = await normalizedMse.create({ ...defaults, reduction: 'mean' }, ctx);
    expect(value(mean.compute(input(p, opposite)))).toBeCloseTo(4, 5);
    expect(loss.viewsRead?.(2)).toEqual({ online: [0, 1], target: [0, 1] });
  });

  it('matches a plain-JS reference on random data to 1e-5', async () => {
    const loss = await normalizedMse.create(defaults, ctx);
    for (const [n, d, seed] of [
      [5, 7, 10],
      [16, 32, 20],
      [3, 4, 30],
    ]) {
      const raw = [0, 1, 2, 3].map((k) => randn([n, d], seed + k));
      const [p0, p1, z0, z1] = raw.map((a) => tf.tensor2d(a, [n, d]));
      const expected = byolLoop([rows(raw[0], n, d), rows(raw[1], n, d)], [rows(raw[2], n, d), rows(raw[3], n, d)]);
      expect(Math.abs(value(loss.compute(input([p0, p1], [z0, z1]))) - expected)).toBeLessThan(1e-5);
    }
  });

  it('its gradient reaches the online prediction; with stopGradient none reaches the target', async () => {
    const [n, d] = [4, 6];
    const ts = [0, 1, 2, 3].map((k) => tf.tensor2d(randn([n, d], 40 + k), [n, d]));
    for (const stop of [false, true]) {
      const loss = await normalizedMse.create({ ...defaults, stopGradient: stop }, ctx);
      const g = tf.grads((p0, p1, z0, z1) => loss.compute(input([p0, p1], [z0, z1])) as tf.Scalar)(ts);
      expect(maxAbs(g[0].dataSync())).toBeGreaterThan(1e-4);
      expect(maxAbs(g[1].dataSync())).toBeGreaterThan(1e-4);
      if (stop) {
        expect(Array.from(g[2].dataSync()).every((x) => x === 0)).toBe(true);
        expect(Array.from(g[3].dataSync()).every((x) => x === 0)).toBe(true);
      } else expect(maxAbs(g[2].dataSync())).toBeGreaterThan(1e-4); // the momentum target, not the loss, detaches
    }
  });

  it('names a missing output in a sentence', async () => {
    const loss = await normalizedMse.create(defaults, ctx);
    const t = tf.ones([2, 3]);
    expect(() => loss.compute({ online: [{ z: t }, { z: t }], target: [{ z: t }, { z: t }], index: index(2), progress })).toThrow(/predictor/);
  });
});
