import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, createRegistry, runExperiment, tf, type Augmenter, type PluginRef } from '../../../cli/api.js';
import { useBackend } from '../../helpers.js';

const registry = createRegistry();
const build = (ref: PluginRef) =>
  registry.create('augmenter', ref, { seed: 0, rng: Rng.fromSeed(0), path: '/augmenter', registry, log: () => {} }) as Promise<Augmenter>;

/** numpy-style rot90 (counter-clockwise) of one H x W image, as nested arrays */
function rot90ref(img: number[][], k: number): number[][] {
  let a = img;
  for (let i = 0; i < k; i++) a = a[0].map((_, c) => a.map((row) => row[row.length - 1 - c]));
  return a;
}

describe('rotate4', () => {
  beforeAll(() => useBackend('cpu', registry));

  it('mode all: the four views are exact rotations by 0/90/180/270 degrees with labels 0-3 per view', async () => {
    const n = 2;
    const h = 3;
    const vals = Array.from({ length: n * h * h }, (_, i) => i);
    const x = tf.tensor4d(vals, [n, h, h, 1]);
    const { views, supervision: targets } = (await build({ type: 'rotate4' })).apply(x, Rng.fromSeed(0));
    expect(views).toHaveLength(4);
    for (let k = 0; k < 4; k++) {
      const got = views[k].arraySync() as number[][][][];
      for (let b = 0; b < n; b++) {
        const img = Array.from({ length: h }, (_, r) => vals.slice(b * 9 + r * 3, b * 9 + r * 3 + 3));
        expect(got[b].map((row) => row.map((p) => p[0]))).toEqual(rot90ref(img, k));
      }
    }
    expect(Array.from(targets!.labels.dataSync())).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
  });

  it('mode random: one view, each image rotated by its label', async () => {
    const x = tf.tensor4d(
      Array.from({ length: 8 * 4 }, (_, i) => i % 7),
      [8, 2, 2, 1],
    );
    const { views, supervision: targets } = (await build({ type: 'rotate4', mode: 'random' })).apply(x, Rng.fromSeed(3));
    const labels = Array.from(targets!.labels.dataSync());
    expect(new Set(labels).size).toBeGreaterThan(1);
    const got = views[0].arraySync() as number[][][][];
    const src = x.arraySync() as number[][][][];
    labels.forEach((k, b) =>
      expect(got[b].map((r) => r.map((p) => p[0]))).toEqual(
        rot90ref(
          src[b].map((r) => r.map((p) => p[0])),
          k,
        ),
      ),
    );
  });

  it('the rotation preset and the composed SimCLR + rotation preset train through the one generic step', async () => {
    const sets = [
      'backend=wasm',
      'data.trainLimit=512',
      'data.testLimit=200',
      'encoder.widths=[8,16]',
      'train.batchSize=64',
      'train.epochs=2',
      'train.checkpointEvery=0',
      'eval.every=0',
      'eval.final=[]',
      'eval.baseline=false',
      'optimizer.lr=0.003',
    ];
    const rot = await runExperiment('rotation', { sets });
    expect(rot.losses[0][1]).toBeGreaterThan(Math.log(4) - 0.3); // starts near chance: ln 4
    const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
    expect(mean(rot.losses.slice(-4).map(([, l]) => l))).toBeLessThan(rot.losses[0][1] - 0.2);
    const both = await runExperiment('simclr-rotation', { sets });
    expect(both.parts.tasks.map((t) => [t.name, t.weight])).toEqual([
      ['main', 1],
      ['rotation', 0.5],
    ]);
    // the summed loss starts at about ln(2N-1) + 0.5 ln 4 for N = 64
    expect(both.losses[0][1]).toBeGreaterThan(Math.log(127) + 0.5 * Math.log(4) - 0.5);
    expect(both.losses[0][1]).toBeLessThan(Math.log(127) + 0.5 * Math.log(4) + 0.5);
  });
});
