import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, buildRun, encodeViews, l2Normalize, makeBatch, progressAt, resolveExperiment, tf, trainStep, type RunParts } from '../../../cli/api.js';
import { tinySimclr, useBackend } from '../../helpers.js';

/** What a step must produce, computed another way: the wiring, not only "a number came out". */
const plainSgd = { type: 'sgd', lr: 0.05, momentum: 0, weightDecay: 0 };
const build = async (cfg: Record<string, unknown>) => {
  const { config, registry } = await resolveExperiment(cfg);
  return buildRun(config, { registry });
};
const batchOf = (parts: RunParts) =>
  makeBatch(
    parts.data.train,
    parts.info,
    Int32Array.from({ length: 16 }, (_, i) => i),
  );
const values = (parts: RunParts) => new Map(parts.params.map((p) => [p.key, Float32Array.from(p.variable.dataSync())]));

/** NT-Xent as the paper writes it: for each of the 2N anchors, -log(exp(s_ij/T) / sum_{k != i} exp(s_ik/T)), averaged. */
function ntXentLoop(z1: tf.Tensor2D, z2: tf.Tensor2D, t: number): tf.Scalar {
  const z = l2Normalize(tf.concat([z1, z2], 0)) as tf.Tensor2D;
  const n2 = z.shape[0];
  const terms: tf.Tensor[] = [];
  for (let i = 0; i < n2; i++) {
    const zi = tf.slice(z, [i, 0], [1, -1]);
    const sims = tf.div(tf.reshape(tf.matMul(zi, z, false, true), [n2]), t);
    const others = tf.concat([tf.slice(sims, 0, i), tf.slice(sims, i + 1)]);
    const j = (i + n2 / 2) % n2;
    terms.push(tf.sub(tf.logSumExp(others), tf.slice(sims, j, 1)));
  }
  return tf.div(tf.addN(terms.map((x) => tf.sum(x))), n2) as tf.Scalar;
}

describe('wiring: what a step writes, checked against an independent computation', () => {
  beforeAll(() => useBackend('cpu'));

  it('one plain SGD step of SimCLR moves every parameter by exactly -lr x the gradient of a naive NT-Xent loop', async () => {
    const cfg = tinySimclr({ optimizer: plainSgd, schedule: { type: 'constant' } });
    const a = await build(cfg);
    const b = await build(cfg); // same seed: the same initial weights
    const before = values(a);
    const batch = batchOf(a);
    await trainStep(a, batch, Rng.fromSeed(7), 1, progressAt(0, 12, 4));
    // b: the same views (the augmenter draws from the same stream), the loss written as a loop
    const vars = b.params.map((p) => p.variable);
    const { grads } = tf.variableGrads(() => {
      const { views } = b.tasks[0].augmenter.apply(batch.x, Rng.fromSeed(7));
      const out = encodeViews(b.tasks[0].branch, views, b.info, true, true);
      return ntXentLoop(out[0].z as tf.Tensor2D, out[1].z as tf.Tensor2D, 0.5);
    }, vars);
    const after = values(a);
    let checked = 0;
    for (const p of b.params) {
      const g = grads[p.variable.name].dataSync();
      const d = after.get(p.key)!.map((x, i) => x - before.get(p.key)![i]);
      d.forEach((x, i) => expect(x).toBeCloseTo(-0.05 * g[i], 6));
      checked += g.length;
    }
    expect(checked).toBe(a.params.reduce((n, p) => n + p.variable.size, 0));
    batch.x.dispose();
  });

  it("MoCo: the rows the queue writes after a step are the momentum encoder's L2-normalised keys of the step's views", async () => {
    const cfg = tinySimclr({
      target: { type: 'momentum', momentum: 0.9 },
      negatives: { type: 'momentum-queue', size: 40 },
      loss: { type: 'info-nce', temperature: 0.2, symmetric: true },
    });
    const parts = await build(cfg);
    const queue = parts.tasks[0].negatives.state!().get('queue')!;
    const target = parts.tasks[0].target;
    // the keys the copy gives for this step's views, computed before the step (the EMA update comes after)
    const batch = batchOf(parts);
    const { views } = parts.tasks[0].augmenter.apply(batch.x, Rng.fromSeed(3));
    const keys = tf.tidy(() => {
      const out = target.outputs(views, undefined, (br, xs) => encodeViews(br, xs, parts.info, true, true, false))!;
      return l2Normalize(tf.concat([out[0].z, out[1].z], 0)).arraySync() as number[][];
    });
    await trainStep(parts, batch, Rng.fromSeed(3), 1, progressAt(0, 12, 4));
    const rows = (queue.arraySync() as number[][]).slice(0, 32);
    rows.forEach((r, i) => r.forEach((x, j) => expect(x).toBeCloseTo(keys[i][j], 5)));
    batch.x.dispose();
  });

  it('the EMA covers the head as well as the encoder, and the copy keeps batch-norm statistics of its own (updated by its forward, not copied)', async () => {
    const m = 0.8;
    const parts = await build(
      tinySimclr({
        target: { type: 'momentum', momentum: m },
        negatives: { type: 'none' },
        loss: { type: 'info-nce', pairNegatives: true },
        head: { type: 'mlp', layers: 2, hiddenDim: 8, outDim: 8, batchNorm: true },
      }),
    );
    const state = parts.tasks[0].target.state!();
    const headW = state.get('head/fc1.weight')!;
    const copyMean = [...state].find(([k]) => k.startsWith('encoder/') && k.includes('running_mean'))!;
    const onlineMean = parts.encoder.params.get(copyMean[0].slice('encoder/'.length))!.variable;
    const old = Float32Array.from(headW.dataSync());
    const batch = batchOf(parts);
    await trainStep(parts, batch, Rng.fromSeed(1), 1, progressAt(0, 12, 4));
    const online = parts.tasks[0].head.params.get('fc1.weight')!.variable.dataSync();
    headW.dataSync().forEach((x, i) => expect(x).toBeCloseTo(m * old[i] + (1 - m) * online[i], 6));
    // the copy's statistics come from its own forward pass: after the first step (the same weights, the same views)
    // they equal the online encoder's; after the second (the copy lags by the EMA) they differ
    const a1 = Float32Array.from(copyMean[1].dataSync());
    expect(Math.max(...a1.map(Math.abs))).toBeGreaterThan(0);
    a1.forEach((x, i) => expect(x).toBeCloseTo(onlineMean.dataSync()[i], 5));
    await trainStep(parts, batch, Rng.fromSeed(2), 1, progressAt(1, 12, 4));
    const a2 = Float32Array.from(copyMean[1].dataSync());
    const b2 = Float32Array.from(onlineMean.dataSync());
    expect(a2.some((x, i) => Math.abs(x - b2[i]) > 1e-6)).toBe(true);
    batch.x.dispose();
  });
});
