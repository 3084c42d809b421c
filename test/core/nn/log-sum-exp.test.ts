import { beforeAll, describe, expect, it } from 'vitest';
import { logSumExpRows } from '../../../cli/api.js';
import { maxAbsDiff, randn, tf, useBackend } from '../../helpers.js';

describe('logSumExpRows', () => {
  beforeAll(() => useBackend('cpu'));

  it("equals tfjs's logSumExp in value and gradient, stays finite for large logits, and runs no Equal", async () => {
    const x = tf.tensor2d(randn([7, 13], 3), [7, 13]);
    const w = tf.tensor1d(randn([7], 4));
    const f = (g: (t: tf.Tensor2D) => tf.Tensor) => (t: tf.Tensor) => tf.sum(tf.mul(g(t as tf.Tensor2D), w));
    expect(maxAbsDiff(logSumExpRows(x).dataSync(), tf.logSumExp(x, 1).dataSync())).toBeLessThan(1e-5);
    const mine = tf.grad(f(logSumExpRows))(x).dataSync();
    const ref = tf
      .grad(f((t) => tf.logSumExp(t, 1)))(x)
      .dataSync();
    expect(maxAbsDiff(mine, ref)).toBeLessThan(1e-6);
    // softmax rows sum to one: the gradient of each row sums to its weight
    const rowSums = tf.sum(tf.grad(f(logSumExpRows))(x), 1).dataSync();
    expect(maxAbsDiff(rowSums, w.dataSync())).toBeLessThan(1e-5);
    const big = tf.tensor2d([
      [1000, 1000, 0],
      [-1000, 5, 5],
    ]);
    const [a, b] = logSumExpRows(big).dataSync();
    expect(a).toBeCloseTo(1000 + Math.log(2), 3);
    expect(b).toBeCloseTo(5 + Math.log(2), 5);
    const prof = await tf.profile(() => tf.grad(f(logSumExpRows))(x));
    expect(prof.kernels.map((k) => k.name)).not.toContain('Equal');
  });
});
