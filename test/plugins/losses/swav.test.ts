import { beforeAll, describe, expect, it } from 'vitest';
import { PluginRegistry, Rng, tf } from '../../../cli/api.js';
import swav, { sinkhorn } from '../../../plugins/losses/swav.js';
import { maxAbsDiff, randn, useBackend } from '../../helpers.js';

const ctx = { seed: 0, rng: Rng.fromSeed(0), path: '/tasks/main/loss', registry: new PluginRegistry(), log: () => {}, input: 'z', inputDim: 8 };
const progress = { step: 0, totalSteps: 10, epoch: 0, stepsPerEpoch: 10, fraction: 0 };
const defaults = { temperature: 0.1, epsilon: 0.05, sinkhornIterations: 3, assignViews: [0, 1], output: 'scores' };
const index = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
type Mat = number[][];

/** Cosine-like scores `[B, K]` in [-1, 1]: normalised random rows. */
function cosines(b: number, k: number, seed: number): Mat {
  const v = randn([b, k], seed);
  return Array.from({ length: b }, (_, i) => {
    const r = Array.from(v.subarray(i * k, (i + 1) * k));
    const n = Math.hypot(...r);
    return r.map((x) => x / n);
  });
}

/** The official Sinkhorn, in double precision, without the max-subtraction. */
function sinkhornRef(s: Mat, eps: number, iters: number): Mat {
  const [b, k] = [s.length, s[0].length];
  let q = Array.from({ length: k }, (_, j) => s.map((row) => Math.exp(row[j] / eps))); // [K, B]
  const total = q.flat().reduce((a, x) => a + x, 0);
  q = q.map((r) => r.map((x) => x / total));
  for (let it = 0; it < iters; it++) {
    q = q.map((r) => {
      const t = r.reduce((a, x) => a + x, 0) * k;
      return r.map((x) => x / t);
    });
    const col = Array.from({ length: b }, (_, i) => q.reduce((a, r) => a + r[i], 0) * b);
    q = q.map((r) => r.map((x, i) => x / col[i]));
  }
  return s.map((_, i) => q.map((r) => r[i] * b)); // [B, K]
}

/** SwAV's loss as the official loop, in double precision. */
function swavRef(views: Mat[], assign: number[], t: number, eps: number, iters: number): number {
  const logSoftmax = (r: number[]) => {
    const m = Math.max(...r);
    const l = m + Math.log(r.reduce((a, x) => a + Math.exp(x - m), 0));
    return r.map((x) => x - l);
  };
  let loss = 0;
  for (const i of assign) {
    const q = sinkhornRef(views[i], eps, iters);
    let sub = 0;
    views.forEach((s, v) => {
      if (v === i) return;
      sub -= s.reduce((a, row, n) => a + logSoftmax(row.map((x) => x / t)).reduce((c, lp, k) => c + q[n][k] * lp, 0), 0) / s.length;
    });
    loss += sub / (views.length - 1);
  }
  return loss / assign.length;
}

const t2 = (m: Mat) => tf.tensor2d(m);
const sums = (q: tf.Tensor, axis: number) => Array.from(tf.sum(q, axis).dataSync());

describe('swav', () => {
  beforeAll(() => useBackend('cpu'));

  it('sinkhorn: rows sum to 1 after the final column step; columns approach B/K as iterations grow', () => {
    const [b, k] = [12, 5];
    const s = cosines(b, k, 1);
    const colErr = (q: tf.Tensor) => maxAbsDiff(sums(q, 0), Array(k).fill(b / k));
    const q3 = sinkhorn(t2(s), 0.05, 3);
    expect(q3.shape).toEqual([b, k]);
    expect(maxAbsDiff(sums(q3, 1), Array(b).fill(1))).toBeLessThan(1e-5);
    expect(maxAbsDiff(q3.dataSync(), sinkhornRef(s, 0.05, 3).flat())).toBeLessThan(1e-5);
    // at epsilon 0.05 three iterations leave the prototypes' mass far from equal (the paper's setting); it converges
    const errs = [3, 10, 50, 300].map((n) => colErr(sinkhorn(t2(s), 0.05, n)));
    errs.slice(1).forEach((e, i) => expect(e).toBeLessThan(errs[i]));
    expect(errs[3]).toBeLessThan(1e-5);
    // a softer epsilon converges in 50 iterations
    const q50 = sinkhorn(t2(s), 0.5, 50);
    expect(maxAbsDiff(sums(q50, 1), Array(b).fill(1))).toBeLessThan(1e-5);
    expect(colErr(q50)).toBeLessThan(1e-5);
    expect(Math.min(...q50.dataSync())).toBeGreaterThanOrEqual(0);
  });

  it('sinkhorn: the max-subtraction changes nothing, and large scores do not overflow', () => {
    const s = cosines(6, 4, 2);
    const shifted = sinkhorn(tf.add(t2(s), 0.05 * 200) as tf.Tensor2D, 0.05, 3); // exp(220) would overflow float32
    expect(maxAbsDiff(shifted.dataSync(), sinkhornRef(s, 0.05, 3).flat())).toBeLessThan(1e-5);
  });

  it('matches the official loop (double precision) on a random multi-crop case to 1e-5', async () => {
    for (const [b, k, v, assign, t, eps, iters] of [
      [5, 7, 4, [0, 1], 0.1, 0.05, 3],
      [8, 3, 2, [0, 1], 0.5, 0.1, 5],
      [4, 6, 3, [1], 0.1, 0.05, 3],
    ] as const) {
      const views = Array.from({ length: v }, (_, i) => cosines(b, k, 10 * v + i));
      const loss = await swav.create({ temperature: t, epsilon: eps, sinkhornIterations: iters, assignViews: [...assign], output: 'scores' }, ctx);
      const got = loss.compute({ online: views.map((s) => ({ scores: t2(s) })), index: index(b), progress });
      const value = ('loss' in got ? got.loss : got).dataSync()[0];
      expect(Math.abs(value - swavRef(views, [...assign], t, eps, iters))).toBeLessThan(1e-5);
    }
  });

  it('equal scores give log K', async () => {
    const loss = await swav.create(defaults, ctx);
    for (const k of [2, 10, 100]) {
      const s = tf.fill([6, k], 0.3) as tf.Tensor2D;
      const got = loss.compute({ online: [{ scores: s }, { scores: s }, { scores: s }], index: index(6), progress });
      expect(('loss' in got ? got.loss : got).dataSync()[0]).toBeCloseTo(Math.log(k), 5);
    }
  });

  it('the gradient reaches the scores through the predictions only: (softmax(s_v/T) - q_i) / (T B (V-1) |assign|)', async () => {
    const [b, k, v, t] = [4, 5, 3, 0.1];
    const views = Array.from({ length: v }, (_, i) => t2(cosines(b, k, 40 + i)));
    const loss = await swav.create(defaults, ctx);
    const f = (...s: tf.Tensor[]) => {
      const out = loss.compute({ online: s.map((p) => ({ scores: p })), index: index(b), progress });
      return 'loss' in out ? out.loss : out;
    };
    const grads = tf.grads(f)(views);
    const q = views.slice(0, 2).map((s) => sinkhorn(s as tf.Tensor2D, 0.05, 3));
    const scale = t * b * (v - 1) * 2;
    const expected = views.map((s, j) => {
      const codes = [0, 1].filter((i) => i !== j).map((i) => q[i]);
      return tf.div(tf.sub(tf.mul(tf.softmax(tf.div(s, t)), codes.length), tf.addN(codes)), scale);
    });
    grads.forEach((g, j) => expect(maxAbsDiff(g.dataSync(), expected[j].dataSync())).toBeLessThan(1e-5));
    // the check discriminates: differentiating through Sinkhorn's codes would change the assigned views' gradients
    const through = (...s: tf.Tensor[]) => {
      const lp = s.map((x) => tf.logSoftmax(tf.div(x, t)));
      const per = [0, 1].map((i) =>
        tf.div(tf.neg(tf.addN(lp.filter((_, j) => j !== i).map((l) => tf.mean(tf.sum(tf.mul(sinkhorn(s[i] as tf.Tensor2D, 0.05, 3), l), 1))))), v - 1),
      );
      return tf.div(tf.addN(per), 2) as tf.Scalar;
    };
    expect(Math.abs(f(...views).dataSync()[0] - through(...views).dataSync()[0])).toBeLessThan(1e-5);
    expect(maxAbsDiff(tf.grads(through)(views)[0].dataSync(), grads[0].dataSync())).toBeGreaterThan(1e-3);
  });

  it('refuses fewer than 2 views and assignViews beyond the views, with a sentence', async () => {
    const loss = await swav.create(defaults, ctx);
    const s = tf.ones([2, 3]);
    expect(() => loss.compute({ online: [{ scores: s }], index: index(2), progress })).toThrow(/at least 2 views/);
    const far = await swav.create({ ...defaults, assignViews: [0, 3] }, ctx);
    expect(() => far.compute({ online: [{ scores: s }, { scores: s }], index: index(2), progress })).toThrow(/assignViews 3/);
    expect(() => loss.compute({ online: [{ z: s }, { z: s }], index: index(2), progress })).toThrow(/reads online\.scores/);
  });
});
