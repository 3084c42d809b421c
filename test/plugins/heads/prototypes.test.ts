import { beforeAll, describe, expect, it } from 'vitest';
import { PluginRegistry, Rng, tf } from '../../../cli/api.js';
import prototypes from '../../../plugins/heads/prototypes.js';
import { maxAbsDiff, randn, useBackend } from '../../helpers.js';

const [D, K, N] = [6, 10, 4];
const ctx = (input = 'z') => ({
  seed: 0,
  rng: Rng.fromSeed(0),
  path: '/tasks/main/predictor',
  registry: new PluginRegistry(),
  log: () => {},
  input,
  inputDim: D,
});
const progress = { step: 1, totalSteps: 10, epoch: 0, stepsPerEpoch: 10, fraction: 0.1 };

/** Norm of each column of a row-major `[rows, cols]` matrix, in double precision. */
function columnNorms(w: Float32Array, rows: number, cols: number): number[] {
  return Array.from({ length: cols }, (_, k) => Math.sqrt(Array.from({ length: rows }, (_, d) => w[d * cols + k] ** 2).reduce((a, b) => a + b, 0)));
}

describe('prototypes head', () => {
  beforeAll(() => useBackend('cpu'));

  it('creates K unit-norm prototypes [D, K] named prototypes.weight', async () => {
    const head = await prototypes.create({ count: K }, ctx());
    expect(head.dim).toBe(K);
    const w = head.params.get('prototypes.weight');
    expect(w?.variable.shape).toEqual([D, K]);
    expect(head.params.list().map((p) => p.name)).toEqual(['prototypes.weight']);
    for (const n of columnNorms(w!.variable.dataSync() as Float32Array, D, K)) expect(n).toBeCloseTo(1, 5);
  });

  it('afterStep restores unit norm after the weights are perturbed', async () => {
    const head = await prototypes.create({ count: K }, ctx());
    const w = head.params.get('prototypes.weight')!.variable;
    w.assign(tf.add(tf.mul(w, tf.linspace(0.2, 5, K)), tf.tensor2d(randn([D, K], 3), [D, K])));
    expect(columnNorms(w.dataSync() as Float32Array, D, K).some((n) => Math.abs(n - 1) > 0.1)).toBe(true);
    const before = tf.memory().numTensors;
    head.afterStep!(progress);
    expect(tf.memory().numTensors).toBe(before);
    for (const n of columnNorms(w.dataSync() as Float32Array, D, K)) expect(n).toBeCloseTo(1, 5);
  });

  it('returns the scores normalise(z) W, [N, K]', async () => {
    const head = await prototypes.create({ count: K }, ctx());
    const zv = randn([N, D], 7);
    const out = head.forward({ z: tf.tensor2d(zv, [N, D]), h: tf.ones([N, 3]) }, true) as tf.Tensor;
    expect(out.shape).toEqual([N, K]);
    const w = head.params.get('prototypes.weight')!.variable.dataSync();
    const ref: number[] = [];
    for (let n = 0; n < N; n++) {
      const z = Array.from(zv.subarray(n * D, (n + 1) * D));
      const norm = Math.hypot(...z);
      for (let k = 0; k < K; k++) ref.push(z.reduce((s, x, d) => s + (x / norm) * w[d * K + k], 0));
    }
    expect(maxAbsDiff(out.dataSync(), ref)).toBeLessThan(1e-5);
    // cosines of unit vectors
    expect(Math.max(...Array.from(out.dataSync()).map(Math.abs))).toBeLessThanOrEqual(1 + 1e-5);
  });

  it('reads the output named by ctx.input, with a sentence when it is missing', async () => {
    const head = await prototypes.create({ count: K }, ctx('h'));
    const h = tf.tensor2d(randn([N, D], 8), [N, D]);
    const a = head.forward({ h, z: tf.ones([N, D]) }, true) as tf.Tensor;
    const b = head.forward({ h, z: tf.zeros([N, D]) }, true) as tf.Tensor;
    expect(maxAbsDiff(a.dataSync(), b.dataSync())).toBe(0);
    expect(() => head.forward({ z: h }, true)).toThrow(/reads 'h'.*produces z/);
  });
});
