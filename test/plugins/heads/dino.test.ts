import { beforeAll, describe, expect, it } from 'vitest';
import { PluginRegistry, Rng, buildRun, resolveExperiment, tf, type Head, type RunParts } from '../../../cli/api.js';
import dino, { weightNormColumns } from '../../../plugins/heads/dino.js';
import { maxAbsDiff, randn, useBackend } from '../../helpers.js';
import { snapshot, step } from '../../core/train/fixtures.js';
import { dinoPreset, tinyDino } from '../dino-fixture.js';

const [D, H, Bn, K, N] = [4, 6, 3, 5, 7];
const ctx = { seed: 0, rng: Rng.fromSeed(0), path: '/tasks/main/head', registry: new PluginRegistry(), log: () => {}, input: 'h', inputDim: D };
const defaults = { layers: 3, hiddenDim: H, bottleneckDim: Bn, outDim: K, batchNorm: false, normLastLayer: true };
const make = async (o: Partial<typeof defaults> = {}) => (await dino.create({ ...defaults, ...o }, { ...ctx, rng: Rng.fromSeed(1) })) as Head;

/** erf to 1.5e-7 (Abramowitz & Stegun 7.1.26). */
function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}
const geluRef = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));

/** Column norms of a row-major `[rows, cols]` matrix. */
const columnNorms = (w: ArrayLike<number>, rows: number, cols: number) =>
  Array.from({ length: cols }, (_, k) => Math.hypot(...Array.from({ length: rows }, (_, d) => w[d * cols + k])));

/** The head by hand, in double precision, from its parameters. */
function headRef(head: Head, x: number[][], g?: number[]): number[][] {
  const get = (name: string) => Array.from(head.params.get(name)!.variable.dataSync());
  const linear = (rows: number[][], w: number[], b: number[], out: number) =>
    rows.map((r) => Array.from({ length: out }, (_, j) => r.reduce((a, xi, i) => a + xi * w[i * out + j], b[j])));
  let y = linear(x, get('fc1.weight'), get('fc1.bias'), H).map((r) => r.map(geluRef));
  y = linear(y, get('fc2.weight'), get('fc2.bias'), H).map((r) => r.map(geluRef));
  y = linear(y, get('fc3.weight'), get('fc3.bias'), Bn).map((r) => {
    const n = Math.hypot(...r);
    return r.map((v) => v / n);
  });
  const v = get('last.v');
  const norms = columnNorms(v, Bn, K);
  return y.map((r) => Array.from({ length: K }, (_, k) => ((g?.[k] ?? 1) * r.reduce((a, u, i) => a + u * v[i * K + k], 0)) / norms[k]));
}

describe('dino head', () => {
  beforeAll(() => useBackend('cpu'));

  it('parameters: an MLP fc1..fc3, the last layer v [bottleneck, K] and, without normLastLayer, a gain g [K] = 1 without decay', async () => {
    const head = await make();
    expect(head.dim).toBe(K);
    expect(head.params.list().map((p) => [p.name, p.variable.shape, p.decay])).toEqual([
      ['fc1.weight', [D, H], true],
      ['fc1.bias', [H], false],
      ['fc2.weight', [H, H], true],
      ['fc2.bias', [H], false],
      ['fc3.weight', [H, Bn], true],
      ['fc3.bias', [Bn], false],
      ['last.v', [Bn, K], true],
    ]);
    // the official init: N(0, 0.02²) weights, zero biases
    const w = head.params.get('fc2.weight')!.variable.dataSync();
    expect(Math.max(...Array.from(w, Math.abs))).toBeLessThan(0.1);
    expect(Array.from(head.params.get('fc1.bias')!.variable.dataSync())).toEqual(Array(H).fill(0));
    const free = await make({ normLastLayer: false });
    const g = free.params.get('last.g')!;
    expect([g.variable.shape, g.trainable, g.decay]).toEqual([[K], true, false]);
    expect(Array.from(g.variable.dataSync())).toEqual(Array(K).fill(1));
    const bn = await make({ batchNorm: true, layers: 2 });
    expect(bn.params.trainable().map((p) => p.name)).toEqual(['fc1.weight', 'fc1.bias', 'bn1.gamma', 'bn1.beta', 'fc2.weight', 'fc2.bias', 'last.v']);
  });

  it('forward: GELU MLP, L2-normalised bottleneck, weight-normalised last layer, as computed by hand', async () => {
    const head = await make();
    // weights large enough that GELU is far from linear and from ReLU
    for (const p of head.params.list()) p.variable.assign(tf.tensor(randn(p.variable.shape, p.name.length + 3), p.variable.shape));
    const x = Array.from({ length: N }, (_, n) => Array.from(randn([D], 50 + n)));
    const z = head.forward({ h: tf.tensor2d(x), map: tf.zeros([N, 1, 1, 1]) }, true) as tf.Tensor;
    expect(z.shape).toEqual([N, K]);
    expect(maxAbsDiff(z.dataSync(), headRef(head, x).flat())).toBeLessThan(1e-5);
    // with normLastLayer the logits are cosines
    expect(Math.max(...Array.from(z.dataSync(), Math.abs))).toBeLessThanOrEqual(1 + 1e-6);
    expect(() => head.forward({ z: tf.zeros([N, D]) }, true)).toThrow(/reads 'h'.*produces z/);
  });

  it('normLastLayer: the columns of the last layer have unit norm, so rescaling v changes nothing; the gradient to v is orthogonal to v', async () => {
    const head = await make();
    const v = head.params.get('last.v')!.variable;
    const w = weightNormColumns(v).dataSync();
    for (const n of columnNorms(w, Bn, K)) expect(n).toBeCloseTo(1, 6);
    expect(columnNorms(v.dataSync(), Bn, K).some((n) => Math.abs(n - 1) > 0.05)).toBe(true); // v itself is not unit-norm
    const h = tf.tensor2d(randn([N, D], 9), [N, D]);
    const before = (head.forward({ h }, true) as tf.Tensor).dataSync();
    v.assign(tf.mul(v, tf.tensor2d([[0.1, 3, 7, 0.5, 20]])));
    expect(maxAbsDiff((head.forward({ h }, true) as tf.Tensor).dataSync(), before)).toBeLessThan(1e-5);
    // the normalisation is in the forward pass: d/dv of f(v/|v|) is orthogonal to each column v_k
    const c = tf.tensor2d(randn([N, K], 11), [N, K]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(head.forward({ h }, true) as tf.Tensor, c)) as tf.Scalar, [v]);
    const gv = grads[v.name].dataSync();
    const vv = v.dataSync();
    expect(Math.max(...Array.from(gv, Math.abs))).toBeGreaterThan(1e-4);
    for (let k = 0; k < K; k++) {
      let dot = 0;
      for (let d = 0; d < Bn; d++) dot += gv[d * K + k] * vv[d * K + k];
      expect(Math.abs(dot)).toBeLessThan(1e-5);
    }
  });

  it('without normLastLayer the gain g scales each output unit and is trained', async () => {
    const head = await make({ normLastLayer: false });
    const g = head.params.get('last.g')!.variable;
    const x = Array.from({ length: N }, (_, n) => Array.from(randn([D], 70 + n)));
    const gains = [1, 2, 0.5, 3, 1];
    g.assign(tf.tensor1d(gains));
    const z = head.forward({ h: tf.tensor2d(x) }, true) as tf.Tensor;
    expect(maxAbsDiff(z.dataSync(), headRef(head, x, gains).flat())).toBeLessThan(1e-5);
    const { grads } = tf.variableGrads(() => tf.sum(head.forward({ h: tf.tensor2d(x) }, true) as tf.Tensor) as tf.Scalar, [g]);
    expect(Math.max(...Array.from(grads[g.name].dataSync(), Math.abs))).toBeGreaterThan(1e-4);
  });

  it("trained with the preset's paramGroups: the last layer is bit-identical through epoch 1 (the teacher's copy to float rounding) and moves in epoch 2", async () => {
    expect(dinoPreset.paramGroups).toEqual([{ match: 'tasks/*/head/last.*', frozenEpochs: 1 }]);
    const { config, registry } = await resolveExperiment(tinyDino());
    const parts: RunParts = await buildRun(config, { registry });
    const teacherLast = () => Float32Array.from(parts.tasks[0].target.state!().get('head/last.v')!.dataSync());
    const last0 = snapshot(parts, 'tasks/main/head/last.');
    expect([...last0.keys()]).toEqual(['tasks/main/head/last.v']);
    const mlp0 = snapshot(parts, 'tasks/main/head/fc1.');
    const teacher0 = teacherLast();
    for (let s = 0; s < 4; s++) await step(parts, s); // epoch 1: steps 0..3 of 4 per epoch
    expect(snapshot(parts, 'tasks/main/head/last.')).toEqual(last0);
    // the teacher's copy follows (its EMA of equal values moves only by float rounding)
    expect(maxAbsDiff(teacherLast(), teacher0)).toBeLessThan(1e-6);
    expect([...snapshot(parts, 'tasks/main/head/fc1.')].some(([k, v]) => v.some((x, i) => x !== mlp0.get(k)![i]))).toBe(true);
    const slots = [...parts.optimizer.state()].filter(([k]) => k.startsWith('tasks/main/head/last.'));
    expect(slots.length).toBe(2); // m and v of AdamW, untouched
    for (const [, t] of slots) expect(Math.max(...Array.from(t.dataSync(), Math.abs))).toBe(0);
    await step(parts, 4); // epoch 2
    const moved = snapshot(parts, 'tasks/main/head/last.').get('tasks/main/head/last.v')!;
    expect(maxAbsDiff(moved, last0.get('tasks/main/head/last.v')!)).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(teacherLast(), teacher0)).toBeGreaterThan(1e-5);
  });
});
