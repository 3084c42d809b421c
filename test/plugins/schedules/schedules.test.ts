import { describe, expect, it } from 'vitest';
import { Rng, createRegistry, type Schedule } from '../../../cli/api.js';

const registry = createRegistry();
const make = async (ref: { type: string; [k: string]: unknown }) =>
  (await registry.create('schedule', ref, { seed: 0, rng: Rng.fromSeed(0), path: '/schedule', registry, log: () => {} })) as Schedule;
const at = (step: number) => ({ step, totalSteps: 100, epoch: Math.floor(step / 10), stepsPerEpoch: 10, fraction: step / 100 });

describe('schedules', () => {
  it('cosine: linear warmup to 1, half-way through the decay 0.5, then the final value', async () => {
    const s = await make({ type: 'cosine', warmupEpochs: 2 });
    expect(s.value(at(0))).toBeCloseTo(1 / 20, 9);
    expect(s.value(at(19))).toBeCloseTo(1, 9);
    expect(s.value(at(20))).toBeCloseTo(1, 9);
    expect(s.value(at(60))).toBeCloseTo(0.5, 9);
    expect(s.value(at(100))).toBeCloseTo(0, 9);
    expect((await make({ type: 'cosine', final: 0.1 })).value(at(100))).toBeCloseTo(0.1, 9);
  });

  it('a fractional warm-up never passes the peak, for cosine and constant alike', async () => {
    // warmupEpochs 0.25 of 10 steps is 2.5 warm-up steps: 1/2.5, 2/2.5, then 1 (3/2.5 = 1.2 before)
    for (const type of ['cosine', 'constant']) {
      const s = await make({ type, warmupEpochs: 0.25 });
      const v = [0, 1, 2].map((k) => s.value(at(k)));
      expect(v[0], type).toBeCloseTo(0.4, 12);
      expect(v[1], type).toBeCloseTo(0.8, 12);
      expect(v[2], type).toBe(1);
    }
  });

  it('step: gamma per milestone passed', async () => {
    const s = await make({ type: 'step', milestones: [3, 6], gamma: 0.1 });
    expect([at(29), at(30), at(59), at(60)].map((p) => s.value(p))).toEqual([1, 0.1, 0.1, 0.1 ** 2]);
    const f = await make({ type: 'step', milestones: [0.6, 0.8], unit: 'fraction', gamma: 0.1 });
    expect([at(59), at(60), at(80)].map((p) => f.value(p))).toEqual([1, 0.1, 0.1 ** 2]);
  });

  it('constant, with optional warmup', async () => {
    expect((await make({ type: 'constant' })).value(at(0))).toBe(1);
    expect((await make({ type: 'constant', warmupEpochs: 1 })).value(at(4))).toBeCloseTo(0.5, 9);
  });
});
