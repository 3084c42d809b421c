import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Rng,
  createRegistry,
  runExperiment,
  selectTokens,
  tf,
  validateConfig,
  type Augmenter,
  type Loss,
  type Tensor3D,
  type Tensor4D,
} from '../../cli/api.js';
import { restoreOrder, restoreOrderOf } from '../../plugins/heads/mae-decoder.js';
import { patchify, unpatchify } from '../../plugins/losses/mae.js';
import { maxAbsDiff, randn, tinySimclr, useBackend } from '../helpers.js';

const registry = createRegistry();
const ctx = (path: string) => ({ seed: 0, rng: Rng.fromSeed(0, path), path, registry, log: () => {} });
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-mae-'));
const progress = { step: 0, epoch: 0, totalSteps: 1, stepsPerEpoch: 1, fraction: 0 };

/** A MAE config small enough for unit tests: 12x12 synthetic images, patch 4 (9 tokens), a 1-block ViT. */
export const tinyMae = (extra: Record<string, unknown> = {}) =>
  tinySimclr({
    encoder: { type: 'vit', patchSize: 4, dim: 8, depth: 1, heads: 2 },
    augmenter: { type: 'mask-patches', ratio: 0.75, patchSize: 4, pipeline: [{ type: 'horizontal-flip' }] },
    head: { type: 'mae-decoder', dim: 8, depth: 1, heads: 2 },
    target: { type: 'none' },
    negatives: { type: 'none' },
    loss: { type: 'mae' },
    optimizer: { type: 'adamw', lr: 1e-3, beta2: 0.95, weightDecay: 0.05 },
    ...extra,
  });

describe('MAE: masking, decoder order, loss, picture, resume', () => {
  beforeAll(() => useBackend('cpu', registry));

  it('mask-patches: exactly 75% of the patches masked per sample, a different set per sample, keep and patchMask agree', async () => {
    const aug = (await registry.create('augmenter', { type: 'mask-patches', ratio: 0.75, patchSize: 4 }, ctx('/augmenter'))) as Augmenter;
    const x = tf.tensor4d(randn([16, 32, 32, 3], 1), [16, 32, 32, 3]);
    const out = aug.apply(x, Rng.fromSeed(3));
    expect(out.views).toHaveLength(1);
    const keep = out.keep![0]!;
    expect(keep.shape).toEqual([16, 16]); // floor(64 * 0.25)
    const mask = out.supervision!.patchMask.arraySync() as number[][];
    const kept = keep.arraySync() as number[][];
    const sets = new Set<string>();
    for (let b = 0; b < 16; b++) {
      expect(mask[b].reduce((a, v) => a + v, 0)).toBe(48);
      for (const i of kept[b]) expect(mask[b][i]).toBe(0);
      expect(new Set(kept[b]).size).toBe(16);
      sets.add(kept[b].join(','));
    }
    expect(sets.size).toBe(16);
    // the same stream gives the same masks (resume replays them), another gives others
    expect(aug.apply(x, Rng.fromSeed(3)).keep![0]!.arraySync()).toEqual(kept);
    expect(aug.apply(x, Rng.fromSeed(4)).keep![0]!.arraySync()).not.toEqual(kept);
  });

  it('restoring the order is the identity on the visible tokens: kept token j lands at patch keep[j], mask tokens elsewhere', () => {
    const keep = Int32Array.from([2, 5, 0, 3]); // 2 samples, K = 2 of T = 6
    const restore = restoreOrder(keep, 2, 2, 6);
    expect([...restore]).toEqual([2, 3, 0, 4, 5, 1, 0, 2, 3, 1, 4, 5]);
    // as the decoder uses it: [visible..., mask...] selected by restore
    const seq = tf.tensor3d([10, 11, -1, -1, -1, -1, 20, 21, -1, -1, -1, -1], [2, 6, 1]);
    const out = selectTokens(seq as Tensor3D, tf.tensor2d(restore, [2, 6], 'int32')).dataSync();
    expect([...out]).toEqual([-1, -1, 10, -1, -1, 11, 20, -1, -1, 21, -1, -1]);
    // the decoder's on-device form gives the same indices, here and for random keeps (a dropped patch's rank among the dropped included)
    expect([...restoreOrderOf(tf.tensor2d(keep, [2, 2], 'int32'), 6).dataSync()]).toEqual([...restore]);
    const rng = Rng.fromSeed(11);
    const n = 5,
      t = 64,
      k = 16;
    const keeps = Int32Array.from({ length: n * k }, () => 0);
    for (let b = 0; b < n; b++) keeps.set(rng.permutation(t).subarray(0, k), b * k);
    const onDevice = restoreOrderOf(tf.tensor2d(keeps, [n, k], 'int32'), t);
    expect(onDevice.dtype).toBe('int32');
    expect([...onDevice.dataSync()]).toEqual([...restoreOrder(keeps, n, k, t)]);
  });

  it('patchify is the encoder patch order, and unpatchify its inverse', () => {
    const img = tf.tensor4d(randn([2, 8, 12, 3], 2), [2, 8, 12, 3]);
    const p = patchify(img, 6);
    expect(p.shape).toEqual([2, 6, 48]);
    // patch 1 (row 0, column 1) pixel (row 2, column 3) channel 1
    expect(p.arraySync()[1][1][(2 * 4 + 3) * 3 + 1]).toBeCloseTo((img.arraySync() as number[][][][])[1][2][4 + 3][1], 6);
    expect(maxAbsDiff(unpatchify(p, 8, 12).dataSync(), img.dataSync())).toBe(0);
  });

  it('the loss counts masked patches only: 0 when the prediction is the normalised target there, whatever is elsewhere; the mean over masked patches otherwise', async () => {
    const loss = (await registry.create('loss', { type: 'mae' }, ctx('/loss'))) as Loss;
    const image = tf.tensor4d(randn([2, 8, 8, 1], 5), [2, 8, 8, 1]) as Tensor4D;
    const patchMask = tf.tensor2d([1, 0, 0, 1, 0, 1, 1, 0], [2, 4]);
    const patches = patchify(image, 4).arraySync() as number[][][];
    const target = patches.map((s) =>
      s.map((px) => {
        const m = px.reduce((a, b) => a + b, 0) / px.length;
        const v = px.reduce((a, b) => a + (b - m) ** 2, 0) / (px.length - 1);
        return px.map((x) => (x - m) / Math.sqrt(v + 1e-6));
      }),
    );
    const mask = patchMask.arraySync() as number[][];
    const exact = target.map((s, b) => s.map((px, i) => (mask[b][i] ? px : px.map(() => 100))));
    const value = (pred: number[][][]) =>
      (loss.compute({ online: [{ z: tf.tensor3d(pred) }], index: new Int32Array(2), supervision: { image, patchMask }, progress }) as tf.Scalar).dataSync()[0];
    expect(value(exact)).toBeCloseTo(0, 5);
    // off by 1 on every pixel of one masked patch, by 2 on another: mean over the 4 masked patches of (1, 4, 0, 0)
    const off = exact.map((s, b) => s.map((px, i) => px.map((x) => x + (b === 0 && i === 0 ? 1 : b === 1 && i === 1 ? 2 : 0))));
    expect(value(off)).toBeCloseTo((1 + 4) / 4, 5);
  });

  it('a token mask with an encoder that cannot drop tokens is refused at validation, naming the encoder', () => {
    const cfg = tinyMae({ encoder: { type: 'small-cnn', widths: [4, 8] } });
    expect(() => validateConfig(cfg, registry)).toThrow(/augmenter 'mask-patches' makes a token mask \(keep\), but encoder 'small-cnn' cannot drop tokens/);
  });

  it('trains: the loss falls, the picture has masked input / reconstruction / original; resume is exact', async () => {
    const cfg = tinyMae({ train: { epochs: 3, batchSize: 16, checkpointEvery: 1 }, callbacks: [{ type: 'image-grid', count: 4, scale: 1 }] });
    const dir = tmp();
    const full = await runExperiment(cfg, { outDir: dir });
    const l = full.losses.map(([, v]) => v);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(l.slice(-3))).toBeLessThan(mean(l.slice(0, 3)));
    const png = path.join(dir, 'pictures', 'main-epoch-003.png');
    const { default: sharp } = await import('sharp');
    const meta = await sharp(png).metadata();
    expect([meta.width, meta.height]).toEqual([4 * (12 + 2) + 2, 3 * (12 + 2) + 2]);
    // resume at step 4 of 12 replays the masks' stream and the optimizer exactly
    const part = tmp();
    await runExperiment({ ...cfg, callbacks: [], train: { epochs: 3, batchSize: 16, checkpointEvery: 1, maxSteps: 4 } }, { outDir: part });
    const resumed = await runExperiment('', { resume: part, sets: ['train.maxSteps=1000'] });
    expect(resumed.losses).toEqual(full.losses.slice(4));
  });
});
