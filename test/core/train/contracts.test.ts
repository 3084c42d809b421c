import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildRun, resolveExperiment, runExperiment } from '../../../cli/api.js';
import { tinySimclr, useBackend } from '../../helpers.js';
import { byolLike, snapshot, step } from './fixtures.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-contracts-'));

const moved = (a: Map<string, Float32Array>, b: Map<string, Float32Array>) => [...a].filter(([k, v]) => v.some((x, i) => x !== b.get(k)![i])).length;

describe('contracts: predictor, parameter groups, gradient hooks, multi-crop, terms, resume', () => {
  beforeAll(() => useBackend('cpu'));

  it('the predictor runs online only: its parameters are trained, and the momentum target copies encoder and head, never the predictor', async () => {
    const { config, registry } = await resolveExperiment(byolLike());
    const parts = await buildRun(config, { registry });
    const predictorKeys = parts.params.filter((p) => p.key.startsWith('tasks/main/predictor/')).map((p) => p.key);
    expect(predictorKeys).toEqual([
      'tasks/main/predictor/fc1.weight',
      'tasks/main/predictor/fc1.bias',
      'tasks/main/predictor/fc2.weight',
      'tasks/main/predictor/fc2.bias',
    ]);
    const state = [...parts.tasks[0].target.state!().keys()];
    expect(state.some((k) => k.startsWith('encoder/'))).toBe(true);
    expect(state.some((k) => k.startsWith('head/'))).toBe(true);
    expect(state.filter((k) => !k.startsWith('encoder/') && !k.startsWith('head/'))).toEqual([]);
    // the target's variables are none of the predictor's, and none is trained
    const predictorVars = new Set(parts.tasks[0].predictor!.params.list().map((p) => p.variable.name));
    for (const v of parts.tasks[0].target.state!().values()) expect(predictorVars.has(v.name)).toBe(false);
    const before = snapshot(parts, 'tasks/main/predictor/');
    await step(parts);
    expect(moved(before, snapshot(parts, 'tasks/main/predictor/'))).toBe(4);
  });

  it('a parameter group with frozenUntil leaves its parameters (and their optimizer slots) unchanged until that step', async () => {
    const paramGroups = [{ match: 'tasks/*/predictor/**', frozenUntil: 2 }];
    const { config, registry } = await resolveExperiment(byolLike({ paramGroups }));
    const parts = await buildRun(config, { registry });
    const pred0 = snapshot(parts, 'tasks/main/predictor/');
    const enc0 = snapshot(parts, 'encoder/');
    await step(parts, 0);
    await step(parts, 1);
    expect(moved(pred0, snapshot(parts, 'tasks/main/predictor/'))).toBe(0);
    expect(moved(enc0, snapshot(parts, 'encoder/'))).toBeGreaterThan(0);
    const slots = [...parts.optimizer.state()].filter(([k]) => k.startsWith('tasks/main/predictor/'));
    expect(slots.length).toBe(4);
    for (const [, v] of slots) expect(Math.max(...Array.from(v.dataSync()).map(Math.abs))).toBe(0);
    await step(parts, 2); // step index 2: unfrozen
    expect(moved(pred0, snapshot(parts, 'tasks/main/predictor/'))).toBe(4);
  });

  it('a parameter group sets lrScale, an unscheduled learning rate and its own weight decay', async () => {
    // SGD without momentum or decay elsewhere: p' = p - lr * (g + wd * p); the group's lr is fixed at 0.1 * 3
    const paramGroups = [{ match: 'tasks/*/predictor/**', lrScale: 3, scheduled: false, weightDecay: 0.5 }];
    const { config, registry } = await resolveExperiment(byolLike({ paramGroups, optimizer: { type: 'sgd', lr: 0.1, momentum: 0, weightDecay: 0 } }));
    const parts = await buildRun(config, { registry });
    const hyper = parts.groups.hyper(parts.optimizer, 0.25);
    expect(hyper('tasks/main/predictor/fc1.weight')).toEqual({ lr: 0.1 * 3, weightDecay: 0.5, adapt: true });
    expect(hyper('tasks/main/predictor/fc2.bias')).toEqual({ lr: 0.1 * 3, weightDecay: 0.5, adapt: false });
    expect(hyper('encoder/conv1.weight')).toEqual({ lr: 0.1 * 0.25, weightDecay: 0, adapt: true });
    await expect(
      resolveExperiment(byolLike({ paramGroups: [{ match: 'tasks/*/projector/**' }] })).then((r) => buildRun(r.config, { registry: r.registry })),
    ).rejects.toThrow(/paramGroups\/0: matches no trainable parameter.*keys look like encoder\//s);
  });

  it('clipGradNorm caps the global gradient norm: one plain SGD step moves the parameters by exactly lr x the cap', async () => {
    const cap = 1e-3;
    const opt = { type: 'sgd', lr: 1, momentum: 0, weightDecay: 0 };
    const { config, registry } = await resolveExperiment(byolLike({ optimizer: opt, train: { epochs: 3, batchSize: 16, clipGradNorm: cap } }));
    const parts = await buildRun(config, { registry });
    const before = snapshot(parts, '');
    await step(parts);
    const after = snapshot(parts, '');
    let sq = 0;
    for (const [k, v] of before) after.get(k)!.forEach((x, i) => (sq += (x - v[i]) ** 2));
    expect(Math.sqrt(sq)).toBeCloseTo(cap, 6);
  });

  it('multi-crop: 2 large and 3 small views take two passes of the online encoder, one per resolution', async () => {
    const augmenter = {
      type: 'multi-crop',
      crops: [
        { count: 2, scale: [0.5, 1] },
        { count: 3, size: 6, scale: [0.2, 0.5] },
      ],
    };
    const { config, registry } = await resolveExperiment(byolLike({ augmenter, loss: { type: 'info-nce', online: 'p' } }));
    const parts = await buildRun(config, { registry });
    const sizes: number[][] = [];
    const forward = parts.encoder.forward.bind(parts.encoder);
    parts.encoder.forward = (x, training) => (sizes.push(x.shape.slice(0, 2)), forward(x, training));
    await step(parts);
    expect(sizes).toEqual([
      [32, 12],
      [48, 6],
    ]);
  });

  it('named loss terms and the collapse monitor reach the step result and metrics.jsonl', async () => {
    const dir = tmp();
    await runExperiment(
      tinySimclr({
        target: { type: 'shared' },
        negatives: { type: 'none' },
        loss: { type: 'vicreg' },
        train: { epochs: 1, batchSize: 16, checkpointEvery: 0 },
      }),
      { outDir: dir },
    );
    const epochs = fs
      .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const m = epochs[0].metrics;
    expect(Object.keys(m).sort()).toEqual(['covariance', 'invariance', 'variance', 'z_std']);
    // the loss is the weighted sum of its terms (25, 25, 1), step by step, so also in the epoch means
    expect(epochs[0].loss).toBeCloseTo(25 * m.invariance + 25 * m.variance + m.covariance, 4);
    expect(m.z_std).toBeGreaterThan(0);
    expect(m.z_std).toBeLessThanOrEqual(1 / Math.sqrt(8) + 1e-6);
  });

  it.each([
    [
      'BYOL-shaped (predictor, scheduled momentum, frozen predictor group)',
      byolLike({ schedules: { 'target.momentum': { to: 1, schedule: { type: 'cosine' } } }, paramGroups: [{ match: 'tasks/*/predictor/**', frozenUntil: 3 }] }),
    ],
    [
      'SwAV-shaped (sequence head with prototypes renormalised after each step)',
      tinySimclr({
        head: {
          type: 'sequence',
          stages: [
            { name: 'z', head: { type: 'mlp', layers: 2, hiddenDim: 8, outDim: 8 } },
            { name: 'scores', head: { type: 'prototypes', count: 6 } },
          ],
        },
        target: { type: 'none' },
        negatives: { type: 'none' },
        loss: { type: 'swav' },
      }),
    ],
  ])('%s: a resumed run reproduces the uninterrupted one exactly on cpu, and the checkpoint names the scheduled values', async (_name, cfg) => {
    const full = await runExperiment(cfg, { outDir: tmp() });
    const dir = tmp();
    await runExperiment({ ...cfg, train: { epochs: 3, batchSize: 16, checkpointEvery: 1, maxSteps: 4 } }, { outDir: dir });
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8'));
    if ((cfg as { schedules?: object }).schedules) expect(meta.scheduled['target.momentum']).toBeCloseTo(1 - (0.1 * (1 + Math.cos((Math.PI * 3) / 12))) / 2, 9);
    const resumed = await runExperiment('', { resume: dir, sets: ['train.maxSteps=1000'] });
    expect(resumed.losses).toEqual(full.losses.slice(4));
  });
});
