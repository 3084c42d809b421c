import { beforeAll, describe, expect, it } from 'vitest';
import { knnTop1, linearProbeTop1, type FeatureSet } from '../../../cli/api.js';
import { randn, useBackend } from '../../helpers.js';

/** Gaussian blobs: class c centred at 3*e_c in `dim` dimensions, unit noise. */
function blobs(n: number, classes: number, dim: number, seed: number, spread = 1): FeatureSet {
  const noise = randn([n, dim], seed);
  const x = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % classes;
    for (let d = 0; d < dim; d++) x[i * dim + d] = spread * noise[i * dim + d] + (d === labels[i] ? 3 : 0);
  }
  return { x, dim, labels, count: n };
}

describe('evaluators', () => {
  beforeAll(() => useBackend('cpu'));

  it('kNN: exact on a hand-made case, high on separable blobs, chance on noise', async () => {
    const train: FeatureSet = { x: new Float32Array([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9]), dim: 2, labels: new Int32Array([0, 0, 1, 1]), count: 4 };
    const test: FeatureSet = { x: new Float32Array([1, 0.05, 0.05, 1]), dim: 2, labels: new Int32Array([0, 1]), count: 2 };
    expect(await knnTop1(train, test, 2, 1, 0.1)).toBe(1);
    expect(await knnTop1(blobs(400, 4, 8, 1), blobs(200, 4, 8, 2), 4, 20, 0.1)).toBeGreaterThan(0.9);
    const noise = (s: number): FeatureSet => ({ ...blobs(400, 4, 8, s), x: randn([400, 8], s + 50) });
    expect(await knnTop1(noise(3), noise(4), 4, 20, 0.1)).toBeLessThan(0.4);
  });

  it('linear probe: high on linearly separable blobs, chance on noise', async () => {
    const o = { epochs: 10, batchSize: 64, lr: 0.05, weightDecay: 0, seed: 0 };
    expect(await linearProbeTop1(blobs(400, 4, 8, 1), blobs(200, 4, 8, 2), 4, o)).toBeGreaterThan(0.9);
    const noise = (s: number): FeatureSet => ({ ...blobs(400, 4, 8, s), x: randn([400, 8], s + 50) });
    expect(await linearProbeTop1(noise(3), noise(4), 4, o)).toBeLessThan(0.4);
  });
});
