import { beforeAll, describe, expect, it } from 'vitest';
import {
  Rng,
  createRegistry,
  extractFeatures,
  gamutBins,
  normalizeImages,
  rgbToLab,
  tf,
  type Augmenter,
  type Loss,
  type Tensor4D,
  progressAt,
} from '../../cli/api.js';
import { maxAbsDiff, useBackend } from '../helpers.js';
import { softEncode } from '../../plugins/losses/colorization.js';

const registry = createRegistry();
const ctx = (path: string) => ({
  seed: 0,
  rng: Rng.fromSeed(0),
  path,
  registry,
  log: () => {},
  dataset: { name: 't', height: 4, width: 4, channels: 3, numClasses: 2, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
});

describe('colorization', () => {
  beforeAll(() => useBackend('cpu', registry));

  it('lab-split: the view is L/100 on every channel, the target ab/110 and L', async () => {
    const aug = (await registry.create('augmenter', { type: 'lab-split' }, ctx('/augmenter'))) as Augmenter;
    const x = tf.tensor4d(
      Array.from({ length: 2 * 16 * 3 }, (_, i) => ((i * 37) % 101) / 100),
      [2, 4, 4, 3],
    );
    const { views, supervision: targets } = aug.apply(x, Rng.fromSeed(0));
    const lab = rgbToLab(x).dataSync();
    const v = views[0].dataSync();
    const ab = targets!.ab.dataSync();
    expect(views[0].shape).toEqual([2, 4, 4, 3]);
    expect(targets!.ab.shape).toEqual([2, 4, 4, 2]);
    for (let p = 0; p < 32; p++) {
      for (let c = 0; c < 3; c++) expect(v[p * 3 + c]).toBeCloseTo(lab[p * 3] / 100, 5);
      expect(ab[p * 2]).toBeCloseTo(lab[p * 3 + 1] / 110, 5);
      expect(ab[p * 2 + 1]).toBeCloseTo(lab[p * 3 + 2] / 110, 5);
    }
    // evaluated on what it trains on: the lightness view of the un-augmented image, not its colours
    const e = aug.evalView!(x).dataSync();
    expect(Array.from(e)).toEqual(Array.from(v));
  });

  it('evaluation feeds an encoder the lightness view for colorization, the plain image otherwise', async () => {
    const info = ctx('').dataset;
    const encoder = (await registry.create('encoder', { type: 'small-cnn', widths: [4] }, ctx('/encoder'))) as import('../../cli/api.js').Encoder;
    const head = (await registry.create('head', { type: 'identity' }, { ...ctx('/head'), inputDim: encoder.dim })) as import('../../cli/api.js').Head;
    const aug = (await registry.create('augmenter', { type: 'lab-split' }, ctx('/augmenter'))) as Augmenter;
    const images = Uint8Array.from({ length: 2 * 16 * 3 }, (_, i) => (i * 53) % 256);
    const set = { images, labels: Int32Array.from([0, 1]), count: 2 };
    const grey = await extractFeatures({ encoder, head }, set, info, 'h', 2, (x) => aug.evalView!(x));
    const rgb = await extractFeatures({ encoder, head }, set, info, 'h', 2);
    const direct = tf.tidy(() =>
      encoder.forward(normalizeImages(aug.evalView!(tf.div(tf.tensor4d(images, [2, 4, 4, 3], 'float32'), 255) as Tensor4D), info), false).h.dataSync(),
    );
    expect(maxAbsDiff(grey.x, direct)).toBeLessThan(1e-5);
    expect(maxAbsDiff(grey.x, rgb.x)).toBeGreaterThan(1e-3);
  });

  it('the in-gamut bins equal an independent float64 derivation (CIE formulas, the cube surface at 1025 steps): 268 at grid 10', () => {
    // sRGB (D65) -> Lab, written out here in float64, independent of core/color/lab.ts
    const lin = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    const f = (t: number) => (t > (6 / 29) ** 3 ? Math.cbrt(t) : t / (3 * (6 / 29) ** 2) + 4 / 29);
    const cells = new Set<string>();
    const add = (r: number, g: number, b: number) => {
      const [R, G, B] = [lin(r), lin(g), lin(b)];
      const X = (0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047;
      const Y = 0.2126729 * R + 0.7151522 * G + 0.072175 * B;
      const Z = (0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883;
      const a = 500 * (f(X) - f(Y));
      const bb = 200 * (f(Y) - f(Z));
      cells.add(`${-110 + (Math.floor((a + 110) / 10) + 0.5) * 10},${-110 + (Math.floor((bb + 110) / 10) + 0.5) * 10}`);
    };
    const steps = 1025;
    for (let i = 0; i < steps; i++)
      for (let j = 0; j < steps; j++) {
        const u = i / (steps - 1),
          w = j / (steps - 1);
        for (const [r, g, bl] of [
          [0, u, w],
          [1, u, w],
          [u, 0, w],
          [u, 1, w],
          [u, w, 0],
          [u, w, 1],
        ])
          add(r, g, bl);
      }
    const b = gamutBins(10);
    const got = new Set(Array.from({ length: b.length / 2 }, (_, i) => `${b[2 * i]},${b[2 * i + 1]}`));
    expect(got).toEqual(cells);
    expect(got.size).toBe(268);
    expect(got.has('-5,-5') && got.has('5,5')).toBe(true); // grey
  });

  it('regression is the mean squared ab error', async () => {
    const loss = (await registry.create('loss', { type: 'colorization', mode: 'regression' }, ctx('/loss'))) as Loss;
    const ab = tf.tensor4d([0.1, -0.2, 0.3, 0.4], [1, 1, 2, 2]);
    const pred = tf.tensor4d([0.2, -0.2, 0.1, 0.4], [1, 1, 2, 2]);
    expect(
      (loss.compute({ online: [{ z: pred }], supervision: { ab }, index: new Int32Array(1), progress: progressAt(0, 1, 1) }) as tf.Scalar).dataSync()[0],
    ).toBeCloseTo((0.01 + 0.04) / 4, 7);
  });

  it('classification: logits on the pixel colour beat uniform logits, which beat logits on a far colour; the bin count is checked', async () => {
    const loss = (await registry.create('loss', { type: 'colorization', mode: 'classification' }, ctx('/loss'))) as Loss;
    const bins = gamutBins(10);
    const q = bins.length / 2;
    const near = 10; // a bin index, and a far one
    const far = q - 1;
    const ab = tf.tensor4d([bins[2 * near] / 110, bins[2 * near + 1] / 110], [1, 1, 1, 2]);
    const peaked = (k: number) =>
      tf.tensor4d(
        Array.from({ length: q }, (_, i) => (i === k ? 10 : 0)),
        [1, 1, 1, q],
      );
    const value = (logits: tf.Tensor) =>
      (loss.compute({ online: [{ z: logits }], supervision: { ab }, index: new Int32Array(1), progress: progressAt(0, 1, 1) }) as tf.Scalar).dataSync()[0];
    const good = value(peaked(near));
    const uniform = value(tf.zeros([1, 1, 1, q]));
    const bad = value(peaked(far));
    expect(good).toBeLessThan(uniform);
    expect(uniform).toBeLessThan(bad);
    expect(() => value(tf.zeros([1, 1, 1, 2]))).toThrow(`set head.outChannels=${q}`);
  });

  it('soft encoding: each pixel on its 5 nearest bins by a sigma-5 Gaussian, as a sort of all 268 distances gives it', () => {
    const centres = gamutBins(10);
    const q = centres.length / 2;
    // pixels: random ab in the gamut's box, one exactly on a bin centre, one halfway between two bins (a tie)
    const abUnits = [12.3, -40.1, -80, 60.5, centres[20], centres[21], (centres[0] + centres[2]) / 2, (centres[1] + centres[3]) / 2];
    for (let i = 0; i < 40; i++) abUnits.push(-100 + ((i * 37) % 200), 90 - ((i * 53) % 190));
    const ab = Float32Array.from(abUnits, (v) => v / 110);
    const enc = softEncode(ab, 110, centres, 5, 5);
    const pixels = ab.length / 2;
    expect(enc.pixels).toBe(pixels);
    const counts = new Float64Array(q);
    for (let p = 0; p < pixels; p++) {
      const a = ab[2 * p] * 110,
        b = ab[2 * p + 1] * 110;
      const order = Array.from({ length: q }, (_, j) => ({ j, d: (a - centres[2 * j]) ** 2 + (b - centres[2 * j + 1]) ** 2 })).sort(
        (x, y) => x.d - y.d || x.j - y.j,
      );
      const top = order.slice(0, 5);
      const z = top.reduce((s, t) => s + Math.exp(-t.d / 50), 0);
      const want = new Float64Array(q);
      for (const t of top) want[t.j] = Math.exp(-t.d / 50) / z;
      const row = enc.target.subarray(p * q, (p + 1) * q);
      expect(maxAbsDiff(Array.from(row), Array.from(want))).toBeLessThan(1e-6);
      expect(row.filter((v) => v > 0).length).toBe(5);
      expect(enc.nearest[p]).toBe(order[0].j);
      for (let j = 0; j < q; j++) counts[j] += want[j];
    }
    expect(enc.nearest[2]).toBe(10); // the pixel on bin 10's centre
    expect(maxAbsDiff(Array.from(enc.counts), Array.from(counts))).toBeLessThan(1e-5);
  });

  it('the colorization preset trains on colour images (synthetic here) and its loss falls', async () => {
    const { runExperiment } = await import('../../cli/api.js');
    const r = await runExperiment('colorization', {
      sets: [
        'backend=wasm',
        'data={"type":"synthetic","train":256,"test":32,"size":16,"channels":3}',
        'encoder.widths=[8,16]',
        'train.batchSize=32',
        'train.epochs=3',
        'train.checkpointEvery=0',
        'eval.every=0',
        'eval.final=[]',
        'eval.baseline=false',
        'optimizer.lr=0.003',
      ],
    });
    expect(r.losses.every(([, l]) => Number.isFinite(l))).toBe(true);
    expect(r.losses.at(-1)![1]).toBeLessThan(0.8 * r.losses[0][1]);
  });
});
