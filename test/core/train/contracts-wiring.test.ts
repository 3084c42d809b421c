import { beforeAll, describe, expect, it } from 'vitest';
import {
  Rng,
  Type,
  buildRun,
  createRegistry,
  definePlugin,
  encodeViews,
  globToRegExp,
  progressAt,
  resolveExperiment,
  runBranch,
  tf,
  type LossInput,
  type RunParts,
  type Tensor4D,
} from '../../../cli/api.js';
import multiCrop from '../../../plugins/augmenters/multi-crop.js';
import infoNce from '../../../plugins/losses/info-nce.js';
import vicreg from '../../../plugins/losses/vicreg.js';
import { maxAbsDiff, randn, tinySimclr, useBackend } from '../../helpers.js';
import { byolLike, snapshot, step } from './fixtures.js';

/** What the wiring must produce, checked against values computed another way (review of the contract tests). */
const plainSgd = { type: 'sgd', lr: 0.1, momentum: 0, weightDecay: 0 };
const build = async (cfg: Record<string, unknown>, registry = createRegistry()) => {
  const { config } = await resolveExperiment(cfg, { registry });
  return buildRun(config, { registry });
};
const delta = (a: Map<string, Float32Array>, b: Map<string, Float32Array>) => [...a].map(([k, v]) => Math.hypot(...v.map((x, i) => x - b.get(k)![i])));
/** What the loss saw of view 0 (copied inside the step: its tensors are disposed after it). */
interface Seen {
  online: number[][];
  target?: number[][];
  targetNames?: string[];
}
function spyLoss(parts: RunParts): Seen[] {
  const seen: Seen[] = [];
  const loss = parts.tasks[0].loss;
  const compute = loss.compute.bind(loss);
  loss.compute = (input: LossInput) => {
    const t = input.target?.[0];
    seen.push({ online: input.online[0].z.arraySync() as number[][], target: t && (t.z.arraySync() as number[][]), targetNames: t && Object.keys(t).sort() });
    return compute(input);
  };
  return seen;
}

describe('contracts: the wiring', () => {
  beforeAll(() => useBackend('cpu'));

  it.each(['byol', 'simsiam', 'barlow-twins', 'vicreg', 'swav', 'moco-v3'])('preset %s builds and makes finite steps (tiny encoder)', async (preset) => {
    const registry = createRegistry();
    const sets = ['backend=cpu', 'data.trainLimit=64', 'data.testLimit=32', 'encoder.widths=[4,8]', 'train.batchSize=16', 'train.epochs=1'];
    const { config } = await resolveExperiment(preset, { registry, sets });
    const parts = await buildRun(config, { registry });
    for (const at of [0, 1]) expect(Number.isFinite((await step(parts, at)).loss)).toBe(true);
    if (preset === 'swav') expect(parts.groups.groupOf('tasks/main/head/scores/prototypes.weight')?.frozenEpochs).toBe(1);
    if (preset === 'barlow-twins') {
      expect(parts.groups.groupOf('tasks/main/head/fc3.bias')?.lrScale).toBe(0.024);
      expect(parts.groups.groupOf('tasks/main/head/fc1.weight')).toBeUndefined();
    }
    if (preset === 'simsiam') expect(parts.groups.groupOf('tasks/main/predictor/fc1.weight')?.scheduled).toBe(false);
  });

  it("a group's lrScale and unscheduled learning rate reach the update: the predictor moves 3x (12x unscheduled at multiplier 0.25) as far, the encoder the same", async () => {
    const moves = async (paramGroups: unknown[]) => {
      const parts = await build(byolLike({ optimizer: plainSgd, paramGroups }));
      const before = snapshot(parts, '');
      await step(parts, 0, 0.25);
      const after = snapshot(parts, '');
      const d = delta(before, after);
      const keys = [...before.keys()];
      return { pred: d.filter((_, i) => keys[i].includes('/predictor/')), enc: d.filter((_, i) => keys[i].startsWith('encoder/')) };
    };
    const base = await moves([]);
    const scaled = await moves([{ match: 'tasks/*/predictor/**', lrScale: 3 }]);
    const fixed = await moves([{ match: 'tasks/*/predictor/**', lrScale: 3, scheduled: false }]);
    base.pred.forEach((d, i) => {
      expect(d).toBeGreaterThan(0);
      expect(scaled.pred[i] / d).toBeCloseTo(3, 4);
      expect(fixed.pred[i] / d).toBeCloseTo(12, 4);
    });
    base.enc.forEach((d, i) => expect(scaled.enc[i]).toBeCloseTo(d, 7));
  });

  it('frozenEpochs unfreezes at ceil(epochs x stepsPerEpoch), the later of it and frozenUntil; decay and lars select and override', async () => {
    const parts = await build(byolLike({ paramGroups: [{ match: 'tasks/*/predictor/**', frozenEpochs: 0.5, frozenUntil: 1 }] }));
    expect(parts.groups.unfreezeStep('tasks/main/predictor/fc1.weight', 4)).toBe(2);
    const p0 = snapshot(parts, 'tasks/main/predictor/');
    await step(parts, 0);
    await step(parts, 1);
    expect(delta(p0, snapshot(parts, 'tasks/main/predictor/')).every((d) => d === 0)).toBe(true);
    await step(parts, 2);
    expect(delta(p0, snapshot(parts, 'tasks/main/predictor/')).every((d) => d > 0)).toBe(true);
    const g = await build(byolLike({ paramGroups: [{ decay: false, lrScale: 0.5, lars: true }] }));
    const hyper = g.groups.hyper(g.optimizer, 1);
    expect(hyper('tasks/main/head/fc2.bias')).toEqual({ lr: 0.05, weightDecay: 0, adapt: true }); // a bias: selected, adaptation forced on
    expect(hyper('tasks/main/head/fc2.weight')).toEqual({ lr: 0.1, weightDecay: 1e-4, adapt: true }); // a weight: no group
  });

  it('globs: * stays within a segment, ** spans segments (or none)', () => {
    expect(globToRegExp('tasks/*/head/*').test('tasks/main/head/fc1.weight')).toBe(true);
    expect(globToRegExp('tasks/*/head/*').test('tasks/main/head/scores/prototypes.weight')).toBe(false);
    expect(globToRegExp('encoder/**/x').test('encoder/x')).toBe(true);
    expect(globToRegExp('encoder/**/x').test('encoder/a/b/x')).toBe(true);
    expect(globToRegExp('**/*.bias').test('tasks/main/head/fc2.bias')).toBe(true);
    expect(globToRegExp('**/*.bias').test('tasks/main/head/fc2.weight')).toBe(false);
  });

  it('the predictor reads z: p equals the predictor applied to the head output', async () => {
    const parts = await build(byolLike());
    const x = tf.tensor4d(randn([3, 12, 12, 1], 1), [3, 12, 12, 1]);
    const out = runBranch(parts.tasks[0].branch, x, false);
    const p = parts.tasks[0].predictor!.forward({ z: out.z }, false) as tf.Tensor;
    expect(maxAbsDiff(out.p.dataSync(), p.dataSync())).toBe(0);
    expect(out.z.shape).toEqual([3, 6]);
  });

  it('views of two sizes encoded jointly (one pass per size) equal the views encoded one by one', async () => {
    const parts = await build(byolLike());
    const sizes = [12, 6, 12, 6];
    const views = sizes.map((s, i) => tf.tensor4d(randn([5, s, s, 1], 10 + i), [5, s, s, 1]).abs() as Tensor4D);
    const joint = encodeViews(parts.tasks[0].branch, views, parts.info, false, true);
    const apart = encodeViews(parts.tasks[0].branch, views, parts.info, false, false);
    for (let v = 0; v < 4; v++) for (const name of ['h', 'z', 'p']) expect(maxAbsDiff(joint[v][name].dataSync(), apart[v][name].dataSync())).toBeLessThan(1e-6);
    // and the views differ from each other (a slice offset error would not pass by chance)
    expect(maxAbsDiff(joint[0].z.dataSync(), joint[2].z.dataSync())).toBeGreaterThan(1e-3);
  });

  it("the momentum target's outputs come from its copy: a perturbed copy gives other target outputs than the online ones", async () => {
    const parts = await build(byolLike());
    const seen = spyLoss(parts);
    await step(parts, 0);
    expect(maxAbsDiff(seen[0].target!.flat(), seen[0].online.flat())).toBeLessThan(1e-5); // the copy starts equal
    const w = parts.tasks[0].target.state!().get('head/fc2.weight')!;
    w.assign(tf.add(w, 1));
    await step(parts, 1);
    expect(maxAbsDiff(seen[1].target!.flat(), seen[1].online.flat())).toBeGreaterThan(0.1);
    expect(seen[1].targetNames).toEqual(['h', 'map', 'z']); // never the predictor's p
  });

  it('shared with stopGradient: a loss on the target outputs alone moves nothing; without it, it trains the encoder', async () => {
    const targetSum = definePlugin({
      kind: 'loss',
      name: 'target-sum',
      description: 'sum of target z (test)',
      options: Type.Object({}),
      create: () => ({ compute: ({ online, target }) => tf.add(tf.sum(target![1].z), tf.mul(0, tf.sum(online[0].z))) as tf.Scalar }),
    });
    const moved = async (stopGradient: boolean) => {
      const registry = createRegistry().register(targetSum);
      const parts = await build(
        tinySimclr({ target: { type: 'shared', stopGradient }, negatives: { type: 'none' }, loss: { type: 'target-sum' }, optimizer: plainSgd }),
        registry,
      );
      const before = snapshot(parts, '');
      await step(parts, 0);
      return Math.max(...delta(before, snapshot(parts, '')));
    };
    expect(await moved(true)).toBe(0);
    expect(await moved(false)).toBeGreaterThan(1e-4);
  });

  it('the collapse monitor: 0 for a constant z, and the hand-computed mean per-dimension std of normalised z otherwise', async () => {
    const parts = await build(tinySimclr({ head: { type: 'linear', outDim: 4 }, optimizer: plainSgd }));
    const w = parts.tasks[0].head.params.get('fc.weight')!.variable;
    const b = parts.tasks[0].head.params.get('fc.bias')!.variable;
    const saved = w.dataSync().slice();
    w.assign(tf.zerosLike(w));
    b.assign(tf.tensor1d([1, 2, 3, 4]));
    expect((await step(parts, 0)).monitor.z_std).toBeLessThan(1e-6);
    w.assign(tf.tensor(saved, w.shape));
    b.assign(tf.zerosLike(b));
    const seen = spyLoss(parts);
    const r = await step(parts, 1);
    const z = seen[0].online;
    const u = z.map((row) => row.map((x) => x / Math.hypot(...row)));
    const std = [0, 1, 2, 3].map((d) => {
      const col = u.map((row) => row[d]);
      const m = col.reduce((s, x) => s + x, 0) / col.length;
      return Math.sqrt(col.reduce((s, x) => s + (x - m) ** 2, 0) / col.length);
    });
    expect(r.monitor.z_std).toBeCloseTo(std.reduce((s, x) => s + x, 0) / 4, 5);
    expect(r.monitor.z_std).toBeGreaterThan(0.05);
  });

  it("SwAV's prototypes are unit vectors after a step with a large learning rate (the head's afterStep runs)", async () => {
    const head = {
      type: 'sequence',
      stages: [
        { name: 'z', head: { type: 'mlp', layers: 2, hiddenDim: 8, outDim: 8 } },
        { name: 'scores', head: { type: 'prototypes', count: 6 } },
      ],
    };
    const parts = await build(
      tinySimclr({ head, target: { type: 'none' }, negatives: { type: 'none' }, loss: { type: 'swav' }, optimizer: { ...plainSgd, lr: 50 } }),
    );
    const before = snapshot(parts, 'tasks/main/head/scores/');
    await step(parts, 0);
    expect(delta(before, snapshot(parts, 'tasks/main/head/scores/'))[0]).toBeGreaterThan(1e-3);
    const norms = tf.norm(parts.tasks[0].head.params.get('scores/prototypes.weight')!.variable, 'euclidean', 0).dataSync();
    norms.forEach((n) => expect(n).toBeCloseTo(1, 5));
  });

  it("a schedule on loss.temperature changes the loss's value: at the end it is info-nce's at the scheduled temperature", async () => {
    const parts = await build(tinySimclr({ schedules: { 'loss.temperature': { to: 0.1, schedule: { type: 'cosine' } } } }));
    const z = [0, 1].map((v) => ({ z: tf.tensor2d(randn([6, 4], 20 + v), [6, 4]) }));
    const neg = { embeddings: tf.concat(z.map((o) => o.z)) as tf.Tensor2D, owner: Int32Array.from([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]) };
    const input = { online: z, target: z, negatives: neg, index: Int32Array.from([0, 1, 2, 3, 4, 5]), progress: progressAt(0, 12, 4) };
    const value = async (t: number) =>
      (
        (await infoNce.create({ temperature: t, symmetric: true, online: 'z', target: 'z', pairNegatives: false }, {} as never)).compute(input) as tf.Scalar
      ).dataSync()[0];
    parts.scalars.apply(progressAt(12, 12, 4));
    expect((parts.tasks[0].loss.compute(input) as tf.Scalar).dataSync()[0]).toBeCloseTo(await value(0.1), 5);
    parts.scalars.apply(progressAt(0, 12, 4));
    expect((parts.tasks[0].loss.compute(input) as tf.Scalar).dataSync()[0]).toBeCloseTo(await value(0.5), 5);
    expect(await value(0.1)).not.toBeCloseTo(await value(0.5), 2);
  });

  it('vicreg weighs its terms by its own options (2, 3, 5 here: no two alike)', async () => {
    const loss = await vicreg.create({ invariance: 2, variance: 3, covariance: 5, eps: 1e-4, output: 'z', branch: 'online' }, {} as never);
    const z = [0, 1].map((v) => ({ z: tf.tensor2d(randn([8, 5], 30 + v), [8, 5]) }));
    const out = loss.compute({ online: z, index: new Int32Array(8), progress: progressAt(0, 1, 1) }) as { loss: tf.Scalar; terms: Record<string, tf.Scalar> };
    const t = Object.fromEntries(Object.entries(out.terms).map(([k, v]) => [k, v.dataSync()[0]]));
    expect(t.variance).toBeGreaterThan(0);
    expect(out.loss.dataSync()[0]).toBeCloseTo(2 * t.invariance + 3 * t.variance + 5 * t.covariance, 4);
  });

  it('multi-crop runs its pipeline on every crop, and crops of one kind differ', async () => {
    const registry = createRegistry();
    const dataset = { name: 't', height: 12, width: 12, channels: 1, numClasses: 2, mean: [0.5], std: [0.25] };
    const ctx = { seed: 0, rng: Rng.fromSeed(0), path: '/augmenter', registry, log: () => {}, dataset };
    const crops = [
      { count: 2, scale: [0.3, 1] as [number, number] },
      { count: 2, size: 6, scale: [0.1, 0.3] as [number, number] },
    ];
    const zeros = await multiCrop.create({ crops, pipeline: [{ type: 'solarize', p: 1, threshold: 0 }] }, ctx);
    for (const v of zeros.apply(tf.zeros([3, 12, 12, 1]) as Tensor4D, Rng.fromSeed(1)).views) expect(Math.min(...v.dataSync())).toBe(1); // every pixel inverted
    const plain = await multiCrop.create({ crops, pipeline: [] }, ctx);
    const x = tf.tensor4d(randn([3, 12, 12, 1], 5), [3, 12, 12, 1]).abs() as Tensor4D;
    const views = plain.apply(x, Rng.fromSeed(2)).views;
    expect(maxAbsDiff(views[0].dataSync(), views[1].dataSync())).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(views[2].dataSync(), views[3].dataSync())).toBeGreaterThan(1e-3);
  });
});
