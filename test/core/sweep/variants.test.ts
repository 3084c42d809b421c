import { describe, expect, it } from 'vitest';
import { builtinPresets, createRegistry } from '../../../cli/api.js';
import { planSweep } from '../../../cli/sweep-api.js';

const plan = (spec: Record<string, unknown>) => planSweep(spec, { registry: createRegistry(), presets: builtinPresets() });

describe('sweep: named variants (bundles of settings under a name)', () => {
  it('each variant is a trial labelled by its name; its bundle (extends included) is applied after set, before the other axes', async () => {
    const p = await plan({
      extends: 'simclr',
      set: { 'train.epochs': 1, 'optimizer.lr': 0.01 },
      variants: {
        method: {
          simclr: {},
          barlow: { extends: 'barlow-twins', 'optimizer.lr': 0.1 },
          'simclr-t01': { 'loss.temperature': 0.1 },
        },
      },
      grid: { 'train.batchSize': [64, 128] },
      seeds: [0],
    });
    expect(p.trials.map((t) => t.label)).toEqual([
      'train.batchSize=64 method=simclr seed=0',
      'train.batchSize=64 method=barlow seed=0',
      'train.batchSize=64 method=simclr-t01 seed=0',
      'train.batchSize=128 method=simclr seed=0',
      'train.batchSize=128 method=barlow seed=0',
      'train.batchSize=128 method=simclr-t01 seed=0',
    ]);
    const [simclr, barlow, t01] = p.trials;
    expect(simclr.axes).toEqual({ 'train.batchSize': 64, method: 'simclr' });
    expect(simclr.config.tasks.main.loss.type).toBe('info-nce');
    expect(simclr.config.optimizer.lr).toBe(0.01); // set applies
    expect(barlow.config.tasks.main.loss.type).toBe('barlow-twins'); // the variant's extends is its base
    expect(barlow.config.optimizer.type).toBe('lars');
    expect(barlow.config.optimizer.lr).toBe(0.1); // the bundle comes after set
    expect((t01.config.tasks.main.loss as { temperature?: number }).temperature).toBe(0.1);
    expect(p.trials.every((t) => t.config.train.epochs === 1)).toBe(true);
    expect(p.trials[4].config.train.batchSize).toBe(128);
  });

  it('a config path varied by variants and by another axis, or by two variants axes, is a config error naming both', async () => {
    await expect(plan({ extends: 'simclr', grid: { 'optimizer.lr': [0.1, 0.2] }, variants: { m: { a: { 'optimizer.lr': 0.3 }, b: {} } } })).rejects.toThrow(
      /\/variants\/m: its variants set 'optimizer.lr', which is already an axis at \/grid\/optimizer.lr/,
    );
    await expect(plan({ extends: 'simclr', variants: { m: { a: { 'loss.temperature': 0.3 } }, n: { b: { 'loss.temperature': 0.1 } } } })).rejects.toThrow(
      /'loss.temperature' is also set by the variants of 'm'/,
    );
  });

  it('a variant that changes nothing is reported as a twin of the one it equals', async () => {
    await expect(plan({ extends: 'simclr', variants: { m: { a: {}, b: { 'loss.temperature': 0.5 } } } })).rejects.toThrow(
      /resolves to the same config as trial 0 \[m=a seed=0\]/,
    );
  });
});
