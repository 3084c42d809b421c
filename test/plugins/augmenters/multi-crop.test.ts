import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, createRegistry, tf } from '../../../cli/api.js';
import multiCrop from '../../../plugins/augmenters/multi-crop.js';
import { useBackend } from '../../helpers.js';

const registry = createRegistry();
const dataset = { name: 't', height: 28, width: 28, channels: 1, numClasses: 10, mean: [0.5], std: [0.25] };
const ctx = { seed: 0, rng: Rng.fromSeed(0), path: '/x', registry, log: () => {}, dataset };
const x = () =>
  tf.tensor4d(
    Float32Array.from({ length: 3 * 28 * 28 }, (_, i) => ((i * 7919) % 997) / 996),
    [3, 28, 28, 1],
  );
const shapes = (views: tf.Tensor[]) => views.map((v) => v.shape);

describe('multi-crop (SwAV)', () => {
  beforeAll(() => useBackend('cpu', registry));

  it('gives the large crops at the image side, then the small ones at round(side·96/224), through the pipeline', async () => {
    const crops = [
      { count: 2, scale: [0.14, 1] as [number, number] },
      { count: 4, scale: [0.05, 0.14] as [number, number] },
    ];
    const aug = await multiCrop.create({ crops, pipeline: [{ type: 'horizontal-flip', p: 0.5 }] }, ctx);
    const { views } = aug.apply(x(), Rng.fromSeed(1, 'augment'));
    expect(shapes(views)).toEqual([...Array(2).fill([3, 28, 28, 1]), ...Array(4).fill([3, 12, 12, 1])]);
    for (const v of views) {
      const d = v.dataSync();
      expect(Math.min(...d)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...d)).toBeLessThanOrEqual(1 + 1e-6);
    }
    const again = aug.apply(x(), Rng.fromSeed(1, 'augment')).views;
    expect(Array.from(again[3].dataSync())).toEqual(Array.from(views[3].dataSync())); // seeded
  });

  it('returns large crops first whatever the config order; explicit sizes are kept', async () => {
    const crops = [
      { count: 3, size: 8, scale: [0.05, 0.14] as [number, number] },
      { count: 1, size: 20, scale: [0.3, 1] as [number, number] },
    ];
    const aug = await multiCrop.create({ crops, pipeline: [] }, ctx);
    expect(shapes(aug.apply(x(), Rng.fromSeed(2)).views)).toEqual([[3, 20, 20, 1], ...Array(3).fill([3, 8, 8, 1])]);
  });

  it("defaults (through the registry) are the paper's 2 large + 6 small crops", async () => {
    const reg = createRegistry(); // multi-crop is a built-in
    const aug = await reg.create('augmenter', { type: 'multi-crop' }, { ...ctx, registry: reg });
    expect(shapes(aug.apply(x(), Rng.fromSeed(3)).views)).toEqual([...Array(2).fill([3, 28, 28, 1]), ...Array(6).fill([3, 12, 12, 1])]);
  });

  it('a crop larger than the images is a sentence', async () => {
    const crops = [{ count: 2, size: 40, scale: [0.14, 1] as [number, number] }];
    await expect(multiCrop.create({ crops, pipeline: [] }, ctx)).rejects.toThrow('multi-crop: crop size 40 is larger than the 28x28 images; use a size <= 28');
  });

  it('a local crop larger than the global one is refused, naming both', async () => {
    const crops = [
      { count: 2, size: 16, scale: [0.4, 1] as [number, number] },
      { count: 4, size: 24, scale: [0.05, 0.4] as [number, number] },
    ];
    await expect(multiCrop.create({ crops, pipeline: [] }, ctx)).rejects.toThrow(
      'multi-crop: crops/1 are local crops (scale up to 0.4) of size 24, larger than the global crops/0 (scale from 0.4) of size 16',
    );
    // equal sizes are fine (SimCLR-style views through multi-crop)
    await expect(multiCrop.create({ crops: [crops[0], { ...crops[1], size: 16 }], pipeline: [] }, ctx)).resolves.toBeDefined();
  });
});
