import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, createRegistry, tf, type Augmenter, type PluginRef } from '../../../cli/api.js';
import { useBackend } from '../../helpers.js';

const registry = createRegistry();
const build = (ref: PluginRef) => registry.create('augmenter', ref, { seed: 0, rng: Rng.fromSeed(0), path: '/augmenter', registry, log: () => {} });

/** A batch with structure: a gradient image per sample, values in [0, 1]. */
function batch(n = 6, h = 12, w = 10, c = 3): tf.Tensor4D {
  const v = new Float32Array(n * h * w * c);
  for (let i = 0; i < v.length; i++) v[i] = ((i * 7919) % 997) / 996;
  return tf.tensor4d(v, [n, h, w, c]);
}

const run = (aug: Augmenter, seed: number, x = batch()) =>
  aug.apply(x, Rng.fromSeed(seed, 'augment')).views.map((v) => ({ shape: v.shape, data: v.dataSync().slice() }));
const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.from(a).every((x, i) => x === b[i]);

const ALL: PluginRef[] = [
  { type: 'random-resized-crop', scale: [0.2, 1], ratio: [0.75, 1.333] },
  { type: 'horizontal-flip', p: 0.5 },
  { type: 'color-jitter', brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 },
  { type: 'grayscale', p: 0.5 },
  { type: 'gaussian-blur', sigma: [0.1, 2], p: 0.5 },
  { type: 'solarize', p: 0.5, threshold: 0.5 },
];

describe('augmenters', () => {
  beforeAll(() => useBackend('cpu', registry));

  it.each(ALL.map((r) => [r.type, r] as const))('%s: shape kept, values in [0, 1], seeded', async (_name, ref) => {
    const aug = await build(ref);
    const a = run(aug, 1);
    const b = run(aug, 1);
    const c = run(aug, 2);
    expect(a).toHaveLength(1);
    expect(a[0].shape).toEqual([6, 12, 10, 3]);
    expect(Math.min(...a[0].data)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a[0].data)).toBeLessThanOrEqual(1 + 1e-6);
    expect(same(a[0].data, b[0].data)).toBe(true); // same seed -> same view
    expect(same(a[0].data, c[0].data)).toBe(false); // different seed -> different view
  });

  it('random-resized-crop resizes to `size`; a full-scale crop of ratio 1 is the identity', async () => {
    const x = batch(2, 8, 8, 1);
    expect((await build({ type: 'random-resized-crop', size: 5 })).apply(x, Rng.fromSeed(0)).views[0].shape).toEqual([2, 5, 5, 1]);
    const full = await build({ type: 'random-resized-crop', scale: [1, 1], ratio: [1, 1] });
    expect(same(full.apply(x, Rng.fromSeed(0)).views[0].dataSync() as Float32Array, x.dataSync() as Float32Array)).toBe(true);
  });

  it('horizontal-flip with p=1 mirrors exactly; grayscale p=1 gives equal channels with BT.601 weights', async () => {
    const x = tf.tensor4d([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [1, 1, 2, 3]);
    const flipped = (await build({ type: 'horizontal-flip', p: 1 })).apply(x, Rng.fromSeed(0)).views[0].dataSync();
    expect(Array.from(flipped)).toEqual(Array.from(new Float32Array([0.4, 0.5, 0.6, 0.1, 0.2, 0.3])));
    const grey = (await build({ type: 'grayscale', p: 1 })).apply(x, Rng.fromSeed(0)).views[0].dataSync();
    const y0 = 0.299 * 0.1 + 0.587 * 0.2 + 0.114 * 0.3;
    expect(grey[0]).toBeCloseTo(y0, 6);
    expect(grey[1]).toBeCloseTo(y0, 6);
    expect(grey[2]).toBeCloseTo(y0, 6);
  });

  it('solarize p=1 inverts exactly the pixels at or above the threshold', async () => {
    const x = tf.tensor4d([0.2, 0.5, 0.9, 0.49], [1, 2, 2, 1]);
    const y = (await build({ type: 'solarize', p: 1, threshold: 0.5 })).apply(x, Rng.fromSeed(0)).views[0].dataSync();
    expect(Array.from(y).map((v) => +v.toFixed(6))).toEqual([0.2, 0.5, 0.1, 0.49]);
  });

  it('gaussian-blur preserves a constant image and the mean of a blurred image', async () => {
    const blur = await build({ type: 'gaussian-blur', sigma: [1, 2], p: 1, kernel: 5 });
    const c = tf.fill([2, 9, 9, 1], 0.3) as tf.Tensor4D;
    const y = blur.apply(c, Rng.fromSeed(0)).views[0].dataSync();
    expect(Math.max(...Array.from(y, (v) => Math.abs(v - 0.3)))).toBeLessThan(1e-6);
    const x = batch(2, 9, 9, 1);
    const b = blur.apply(x, Rng.fromSeed(0)).views[0];
    // blurring lowers the total variation
    const tv = (t: tf.Tensor) => tf.sum(tf.abs(tf.sub(tf.slice(t, [0, 1, 0, 0], [-1, -1, -1, -1]), tf.slice(t, [0, 0, 0, 0], [-1, 8, -1, -1])))).dataSync()[0];
    expect(tv(b)).toBeLessThan(0.8 * tv(x));
  });

  it('multi-view gives N independent views of the same batch', async () => {
    const mv = await build({ type: 'multi-view', views: 3, pipeline: [{ type: 'random-resized-crop', scale: [0.3, 1] }, { type: 'horizontal-flip' }] });
    const out = run(mv, 5);
    expect(out).toHaveLength(3);
    for (const v of out) expect(v.shape).toEqual([6, 12, 10, 3]);
    expect(same(out[0].data, out[1].data)).toBe(false);
    expect(same(out[0].data, run(mv, 5)[0].data)).toBe(true);
  });

  it('rejects bad options with a sentence naming the plugin and path', async () => {
    await expect(build({ type: 'random-resized-crop', scale: [0.9, 0.2], ratio: [0.75, 1.33] })).rejects.toThrow(
      /random-resized-crop' at \/augmenter failed to build: scale must be \[min, max\]/,
    );
    await expect(build({ type: 'multi-view', views: 3, pipeline: [], viewPipelines: [[], []] })).rejects.toThrow(/2 pipelines for 3 views/);
  });
});
