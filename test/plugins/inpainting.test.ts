import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, createRegistry, runExperiment, tf, type Encoder, type Head, type Loss, type PluginRef, progressAt } from '../../cli/api.js';
import { useBackend } from '../helpers.js';
import { upsample2 } from '../../plugins/heads/conv-decoder.js';

const registry = createRegistry();
const ctx = (path: string, extra: Record<string, unknown> = {}) => ({ seed: 0, rng: Rng.fromSeed(0), path, registry, log: () => {}, ...extra });
const info = (size: number, channels: number) => ({
  name: 't',
  height: size,
  width: size,
  channels,
  numClasses: 10,
  mean: Array(channels).fill(0.5),
  std: Array(channels).fill(0.25),
});

describe('inpainting parts', () => {
  beforeAll(() => useBackend('wasm', registry));

  it.each([
    [{ type: 'small-cnn', widths: [8, 16, 32] }, 28, 1],
    [{ type: 'resnet', depth: 18, widthMultiplier: 0.125 }, 32, 3],
  ] as const)('conv-decoder output has the input image shape (%j)', async (enc, size, ch) => {
    const encoder = (await registry.create('encoder', enc as unknown as PluginRef, ctx('/encoder', { dataset: info(size, ch) }))) as Encoder;
    const out = encoder.forward(tf.zeros([2, size, size, ch]), false);
    const head = (await registry.create(
      'head',
      { type: 'conv-decoder' },
      ctx('/head', { dataset: info(size, ch), encoder: { dim: encoder.dim, mapShape: out.map.shape.slice(1) }, inputDim: encoder.dim }),
    )) as Head;
    const y = head.forward(out, true) as tf.Tensor;
    expect(y.shape).toEqual([2, size, size, ch]);
    expect(Math.min(...y.dataSync())).toBeGreaterThanOrEqual(0); // sigmoid pixels
  });

  it('x2 nearest upsampling repeats each pixel in a 2x2 block, per channel', () => {
    const x = tf.tensor4d([1, 10, 2, 20, 3, 30, 4, 40], [1, 2, 2, 2]);
    const y = upsample2(x)
      .arraySync()[0]
      .map((row) => row.map((p) => p[0]));
    expect(y).toEqual([
      [1, 1, 2, 2],
      [1, 1, 2, 2],
      [3, 3, 4, 4],
      [3, 3, 4, 4],
    ]);
    expect(upsample2(x).arraySync()[0][3][3][1]).toBe(40);
  });

  it('mask-region fills a centred square of the requested area with the mean and returns the original and the mask', async () => {
    const aug = await registry.create('augmenter', { type: 'mask-region', fraction: 0.25 }, ctx('/augmenter', { dataset: info(8, 1) }));
    const x = tf.fill([1, 8, 8, 1], 0.9) as tf.Tensor4D;
    const { views, supervision: targets } = aug.apply(x, Rng.fromSeed(0));
    const m = targets!.mask.dataSync();
    expect(Array.from(m).reduce((s, v) => s + v, 0)).toBe(16); // 4 x 4 = 1/4 of 64
    expect(m[2 * 8 + 2]).toBe(1);
    expect(m[0]).toBe(0);
    const v = views[0].dataSync();
    expect(v[2 * 8 + 2]).toBeCloseTo(0.5, 6);
    expect(v[0]).toBeCloseTo(0.9, 6);
    expect(Array.from(targets!.image.dataSync())).toEqual(Array.from(x.dataSync()));
  });

  it('masked-l2: zero where the prediction equals the target inside the mask, whatever it does outside; the border band weighs more', async () => {
    const loss = (await registry.create('loss', { type: 'masked-l2', overlap: 1, overlapWeight: 10 }, ctx('/loss'))) as Loss;
    const image = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const mArr = new Float32Array(2 * 64);
    for (let b = 0; b < 2; b++) for (let i = 2; i < 6; i++) for (let j = 2; j < 6; j++) mArr[b * 64 + i * 8 + j] = 1;
    const mask = tf.tensor4d(mArr, [2, 8, 8, 1]);
    const garbageOutside = tf.add(tf.mul(image, mask), tf.mul(tf.sub(1, mask), 7));
    const l = (pred: tf.Tensor) =>
      (
        loss.compute({ online: [{ z: pred }], supervision: { image, mask }, index: new Int32Array(2), progress: progressAt(0, 1, 1) }) as tf.Scalar
      ).dataSync()[0];
    expect(l(garbageOutside)).toBe(0);
    // an error of 1 on one interior pixel vs one border-band pixel
    const one = (i: number, j: number) => {
      const e = new Float32Array(128);
      e[i * 8 + j] = 1;
      return tf.add(image, tf.tensor4d(e, [2, 8, 8, 1]));
    };
    const interior = l(one(3, 3));
    const band = l(one(2, 2));
    expect(band / interior).toBeCloseTo(10, 4);
    // weights: 2 images x (4 interior x 1 + 12 band x 10) = 248
    expect(interior).toBeCloseTo(1 / 248, 6);
  });

  it('the inpainting preset trains (the masked reconstruction error falls), draws a PNG grid each epoch, and is scored beside its random-weights encoder', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'inpaint-'));
    const r = await runExperiment('inpainting', {
      outDir: out,
      sets: [
        'backend=wasm',
        'data.trainLimit=512',
        'data.testLimit=100',
        'encoder.widths=[8,16,32]',
        'train.batchSize=64',
        'train.epochs=3',
        'train.checkpointEvery=0',
        'eval.every=0',
        'eval.final=[{"type":"knn","k":10}]',
        'eval.baseline=true',
        'optimizer.lr=0.003',
      ],
    });
    // the baseline builds the conv decoder too, which needs the encoder's map shape; 10 classes: chance is
    // 0.1, and conv features (random or trained) on Fashion-MNIST are far above it
    expect(r.eval.random_knn_top1).toBeGreaterThan(0.3);
    expect(r.eval.knn_top1).toBeGreaterThan(0.3);
    const first = r.losses[0][1];
    const last = r.losses.at(-1)![1];
    expect(last).toBeLessThan(0.7 * first);
    const pictures = fs.readdirSync(path.join(out, 'pictures'));
    expect(pictures).toEqual(['main-epoch-001.png', 'main-epoch-002.png', 'main-epoch-003.png']);
    const meta = await sharp(path.join(out, 'pictures', pictures[2])).metadata();
    // 8 columns and 3 rows of 28 x 28 images magnified 4x with 2 px gaps
    expect([meta.width, meta.height]).toEqual([8 * (28 * 4 + 2) + 2, 3 * (28 * 4 + 2) + 2]);
  });
});
