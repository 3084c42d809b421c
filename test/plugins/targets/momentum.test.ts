import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, buildRun, makeBatch, progressAt, resolveExperiment, tf, trainStep } from '../../../cli/api.js';
import { tinySimclr, useBackend } from '../../helpers.js';

describe('momentum target', () => {
  beforeAll(() => useBackend('cpu'));

  it('after one step the copy equals m*old + (1-m)*online exactly, and receives no gradient', async () => {
    const m = 0.9;
    const { config, registry } = await resolveExperiment(tinySimclr({ target: { type: 'momentum', momentum: m } }));
    const parts = await buildRun(config, { registry });
    const task = parts.tasks[0];
    const state = task.target.state!();
    const copyEnc = [...state].filter(([k]) => k.startsWith('encoder/') && !k.includes('running'));
    expect(copyEnc.length).toBeGreaterThan(0);
    // the copy starts equal to the online encoder
    for (const [k, v] of copyEnc) {
      const online = parts.encoder.params.get(k.slice('encoder/'.length))!.variable;
      expect(Array.from(v.dataSync())).toEqual(Array.from(online.dataSync()));
    }
    const before = new Map(copyEnc.map(([k, v]) => [k, v.dataSync().slice()]));
    const b = makeBatch(
      parts.data.train,
      parts.info,
      Int32Array.from({ length: 16 }, (_, i) => i),
    );
    await trainStep(parts, b, Rng.fromSeed(0), 0.5, progressAt(0, 10, 4));
    let changed = 0;
    for (const [k, v] of copyEnc) {
      const online = parts.encoder.params.get(k.slice('encoder/'.length))!.variable.dataSync();
      const old = before.get(k)!;
      const got = v.dataSync();
      for (let i = 0; i < got.length; i++) {
        expect(got[i]).toBeCloseTo(m * old[i] + (1 - m) * online[i], 6);
        if (online[i] !== old[i]) changed++;
      }
    }
    expect(changed).toBeGreaterThan(0); // the online encoder did move
    // the target's variables are not among the trained parameters
    const trained = new Set(parts.params.map((p) => p.variable.name));
    for (const [, v] of state) expect(trained.has(v.name)).toBe(false);
    b.x.dispose();
  });

  it('a cosine schedule on target.momentum raises m from its start to 1 (BYOL)', async () => {
    const schedules = { 'target.momentum': { to: 1, schedule: { type: 'cosine' } } };
    const { config, registry } = await resolveExperiment(tinySimclr({ target: { type: 'momentum', momentum: 0.5 }, schedules }));
    const parts = await buildRun(config, { registry });
    const [k, v] = [...parts.tasks[0].target.state!()].find(([key]) => key === 'encoder/conv1.weight')!;
    const online = parts.encoder.params.get('conv1.weight')!.variable;
    tf.tidy(() => online.assign(tf.add(online, 1)));
    const old = v.dataSync().slice();
    parts.scalars.apply(progressAt(10, 10, 10)); // end: m = 1
    expect(parts.scalars.values()).toEqual({ 'target.momentum': 1 });
    parts.tasks[0].target.afterStep!(progressAt(10, 10, 10));
    expect(Array.from(v.dataSync())).toEqual(Array.from(old));
    parts.scalars.apply(progressAt(5, 10, 10)); // middle: m = 1 + (0.5 - 1) * (1 + cos(pi/2)) / 2 = 0.75
    expect(parts.scalars.values()['target.momentum']).toBeCloseTo(0.75, 12);
    parts.tasks[0].target.afterStep!(progressAt(5, 10, 10));
    const on = online.dataSync();
    expect(v.dataSync()[0]).toBeCloseTo(0.75 * old[0] + 0.25 * on[0], 6);
    expect(k).toBe('encoder/conv1.weight');
  });

  it('Shuffle BN (shuffleGroups) computes keys on shuffled groups and returns them in the original order', async () => {
    const { config, registry } = await resolveExperiment(tinySimclr({ target: { type: 'momentum', shuffleGroups: 3 } }));
    const parts = await buildRun(config, { registry });
    const views = [
      tf.tensor2d(
        Array.from({ length: 10 }, (_, i) => [i, 0]),
        [10, 2],
      ),
      tf.tensor2d(
        Array.from({ length: 10 }, (_, i) => [0, 100 + i]),
        [10, 2],
      ),
    ];
    const groups: number[][] = [];
    // a stand-in branch: keys = the rows it is given, recording each group's sample ids
    const forward = (_b: unknown, xs: tf.Tensor[]) => {
      groups.push(Array.from(xs[0].dataSync()).filter((_, j) => j % 2 === 0));
      return xs.map((x) => ({ z: x }));
    };
    const keys = parts.tasks[0].target.outputs(views, undefined, forward as never)!;
    expect(Array.from(keys[0].z.dataSync())).toEqual(Array.from(views[0].dataSync()));
    expect(Array.from(keys[1].z.dataSync())).toEqual(Array.from(views[1].dataSync()));
    expect(groups.map((g) => g.length)).toEqual([4, 4, 2]);
    expect(groups.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(groups.flat()).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]); // shuffled
  });
});
