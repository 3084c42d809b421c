import { beforeAll, describe, expect, it } from 'vitest';
import { resolveExperiment, runExperiment } from '../../../cli/api.js';
import { tinySimclr, useBackend } from '../../helpers.js';

/** Bad method configs get a sentence that names the place and the way out, not a crash. */
describe('method configs: errors as sentences', () => {
  beforeAll(() => useBackend('cpu'));

  it('a predictor without a target branch', async () => {
    const cfg = tinySimclr({ predictor: { type: 'mlp' }, target: { type: 'none' }, negatives: { type: 'none' } });
    await expect(resolveExperiment(cfg)).rejects.toThrow(
      /\/predictor: a predictor runs on the online branch only .* target is 'none' \(use target "momentum" \(BYOL, MoCo v3\) or "shared" with stopGradient \(SimSiam\)\)/,
    );
  });

  it('a loss that reads more global crops than the augmenter makes is refused at validation (DINO, SwAV); the presets pass', async () => {
    await expect(resolveExperiment('dino', { sets: ['loss.globalViews=5'] })).rejects.toThrow(
      /\/loss: loss 'dino' treats the first 5 views as global crops, but augmenter 'multi-crop' makes 2 global crops first: the others are local crops \(read at most 2 global views/,
    );
    await expect(resolveExperiment('swav', { sets: ['loss.assignViews=[0,2]'] })).rejects.toThrow(
      /loss 'swav' treats the first 3 views as global crops, but augmenter 'multi-crop' makes 2/,
    );
    await expect(resolveExperiment('dino', { sets: ['loss.globalViews=1'] })).resolves.toBeDefined();
    await expect(resolveExperiment('dino')).resolves.toBeDefined();
    await expect(resolveExperiment('swav')).resolves.toBeDefined();
  });

  it('a loss that reads an output no module produces names the outputs there are', async () => {
    const cfg = tinySimclr({
      target: { type: 'momentum' },
      negatives: { type: 'none' },
      loss: { type: 'normalized-mse' },
      train: { epochs: 1, batchSize: 16, checkpointEvery: 0 },
    });
    const err = await runExperiment(cfg).catch((e: Error & { exitCode?: number }) => e);
    expect(String(err)).toMatch(/loss 'normalized-mse' at \/loss: reads online\.p, but the online branch produces h, map, z \(add a predictor to the task/);
    expect((err as { exitCode?: number }).exitCode).toBe(2);
  });

  it('reading the predictor on the target branch says why there is none', async () => {
    const cfg = tinySimclr({
      predictor: { type: 'mlp' },
      target: { type: 'momentum' },
      negatives: { type: 'none' },
      loss: { type: 'normalized-mse', target: 'p' },
      train: { epochs: 1, batchSize: 16, checkpointEvery: 0 },
    });
    await expect(runExperiment(cfg)).rejects.toThrow(
      /reads target\.p, but the target branch produces h, map, z \(a target branch copies the encoder and head, never the predictor: read target\.z\)/,
    );
  });

  it('a multi-crop size larger than the images', async () => {
    const cfg = tinySimclr({ augmenter: { type: 'multi-crop', crops: [{ count: 2, size: 40, scale: [0.5, 1] }] } });
    await expect(runExperiment(cfg)).rejects.toThrow(
      /augmenter 'multi-crop' at \/augmenter failed to build: multi-crop: crop size 40 is larger than the 12x12 images; use a size <= 12/,
    );
  });

  it('a schedule on an option the plugin does not declare schedulable, and on a path that names no plugin', async () => {
    const sched = { to: 0, schedule: { type: 'cosine' } };
    await expect(resolveExperiment(tinySimclr({ schedules: { 'head.outDim': sched } }))).rejects.toThrow(
      /\/schedules\/head\.outDim: head 'mlp' does not declare 'outDim' schedulable \(it has no schedulable option\)/,
    );
    await expect(resolveExperiment(tinySimclr({ schedules: { 'loss.symmetric': sched } }))).rejects.toThrow(
      /loss 'info-nce' does not declare 'symmetric' schedulable \(schedulable: temperature\)/,
    );
    await expect(resolveExperiment(tinySimclr({ schedules: { 'train.epochs': sched } }))).rejects.toThrow(/'train\.epochs' names no plugin option/);
    // a declared one validates, and its value moves
    const { config } = await resolveExperiment(tinySimclr({ schedules: { 'loss.temperature': { to: 0.1, schedule: { type: 'cosine' } } } }));
    expect(config.schedules['loss.temperature'].to).toBe(0.1);
  });
});
