import { describe, expect, it } from 'vitest';
import { builtinPresets, createRegistry } from '../../../cli/api.js';
import { planSweep } from '../../../cli/sweep-api.js';

describe('sweep: an axis over extends (a methods comparison)', () => {
  it('each trial starts from its own preset, then takes the sweep-wide set', async () => {
    const spec = { extends: 'simclr', set: { 'train.epochs': 1 }, grid: { extends: ['simclr', 'byol', 'swav'] }, seeds: [0, 1] };
    const plan = await planSweep(spec, { registry: createRegistry(), presets: builtinPresets() });
    expect(plan.trials.map((t) => t.label)).toEqual([
      'extends=simclr seed=0',
      'extends=byol seed=0',
      'extends=swav seed=0',
      'extends=simclr seed=1',
      'extends=byol seed=1',
      'extends=swav seed=1',
    ]);
    const loss = (i: number) => plan.trials[i].config.tasks.main.loss.type;
    expect([0, 1, 2, 3, 4, 5].map(loss)).toEqual(['info-nce', 'normalized-mse', 'swav', 'info-nce', 'normalized-mse', 'swav']);
    expect(plan.trials[1].config.tasks.main.predictor?.type).toBe('mlp');
    expect(plan.trials[0].config.tasks.main.predictor).toBeUndefined();
    expect(plan.trials[2].config.tasks.main.augmenter.type).toBe('multi-crop');
    expect(plan.trials.every((t) => t.config.train.epochs === 1)).toBe(true);
    expect(new Set(plan.trials.map((t) => t.hash)).size).toBe(6);
  });

  it('the shipped methods sweep plans 8 presets x 2 seeds at one time budget', async () => {
    const plan = await planSweep('presets/sweeps/methods.json', { registry: createRegistry(), presets: builtinPresets() });
    expect(plan.trials).toHaveLength(16);
    expect(new Set(plan.trials.map((t) => t.config.train.maxSeconds))).toEqual(new Set([600]));
    expect(new Set(plan.trials.map((t) => t.config.tasks.main.loss.type))).toEqual(
      new Set(['info-nce', 'normalized-mse', 'negative-cosine', 'barlow-twins', 'vicreg', 'swav']),
    );
  });

  it('an unknown preset on the axis is a config error', async () => {
    const spec = { extends: 'simclr', grid: { extends: ['simclr', 'byl'] } };
    await expect(planSweep(spec, { registry: createRegistry(), presets: builtinPresets() })).rejects.toThrow(/byl/);
  });
});

describe('sweep: the metrics it reports', () => {
  it('a metric no trial produces is refused before anything runs, with a guess and the list there is', async () => {
    const spec = { extends: 'simclr', metrics: ['knn_top1', 'knn_tp1', 'linear_z_top1'], seeds: [0] };
    const err = await planSweep(spec, { registry: createRegistry(), presets: builtinPresets() }).catch((e: Error) => e);
    const msg = String(err);
    expect(msg).toMatch(/\/metrics\/1: no trial produces metric 'knn_tp1' \(did you mean 'knn_top1'\?\)/);
    expect(msg).toMatch(/\/metrics\/2: no trial produces metric 'linear_z_top1'/);
    expect(msg).toMatch(/the trials produce: loss, z_std, z_std_ref, main\/z_std, knn_top1/);
    expect(msg).not.toMatch(/metrics\/0/);
  });

  it('evaluators named in eval.final, their random_ twins with eval.baseline, and z_std are metrics a sweep may report', async () => {
    const spec = {
      extends: 'simclr',
      set: {
        'eval.final': [
          { type: 'linear-probe', features: 'z' },
          { type: 'knn', name: 'nn' },
        ],
        'eval.baseline': true,
      },
      metrics: ['linear_z_top1', 'nn_top1', 'random_nn_top1', 'z_std', 'loss'],
    };
    const plan = await planSweep(spec, { registry: createRegistry(), presets: builtinPresets() });
    expect(plan.trials).toHaveLength(1);
  });

  it('a spec that names no metrics reports the default ones its trials produce, and is not refused for the others', async () => {
    // with a kNN evaluator and no linear probe, the default [knn_top1, linear_top1] narrows to knn_top1
    const knnOnly = await planSweep(
      { extends: 'simclr', seeds: [0], set: { 'eval.final': [{ type: 'knn' }] } },
      { registry: createRegistry(), presets: builtinPresets() },
    );
    expect(knnOnly.spec.metrics).toEqual(['knn_top1']);
    // simclr's own eval.final has both
    const probed = await planSweep({ extends: 'simclr', seeds: [0] }, { registry: createRegistry(), presets: builtinPresets() });
    expect(probed.spec.metrics).toEqual(['knn_top1', 'linear_top1']);
    const none = await planSweep({ extends: 'simclr', seeds: [0], set: { 'eval.final': [] } }, { registry: createRegistry(), presets: builtinPresets() });
    expect(none.spec.metrics).toEqual(['loss']);
  });
});
