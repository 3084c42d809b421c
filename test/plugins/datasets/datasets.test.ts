import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DataError, Rng, createRegistry, readIdx, type Dataset } from '../../../cli/api.js';

const registry = createRegistry();
const make = async (ref: { type: string; [k: string]: unknown }) =>
  (await registry.create('dataset', ref, { seed: 0, rng: Rng.fromSeed(0), path: '/data', registry, log: () => {} })) as Dataset;

describe('datasets', () => {
  it('fashion-mnist: the embedded subset loads with labels, indices and per-channel stats', async () => {
    const d = await (await make({ type: 'fashion-mnist' })).load();
    expect(d.train.count).toBe(6000);
    expect(d.test!.count).toBe(1000);
    expect(d.train.images.length).toBe(6000 * 784);
    expect(d.info).toMatchObject({ height: 28, width: 28, channels: 1, numClasses: 10 });
    // Fashion-MNIST's pixel mean is about 0.286 (std 0.353)
    expect(d.info.mean[0]).toBeGreaterThan(0.27);
    expect(d.info.mean[0]).toBeLessThan(0.3);
    const counts = new Array(10).fill(0);
    for (const l of d.train.labels) counts[l]++;
    expect(Math.min(...counts)).toBeGreaterThan(500);
  });

  it('readIdx parses a hand-made file and rejects a truncated one with a sentence', () => {
    const header = Buffer.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3]);
    const body = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const r = readIdx(zlib.gzipSync(Buffer.concat([header, body])));
    expect(r.dims).toEqual([2, 2, 3]);
    expect(Array.from(r.data)).toEqual([...body]);
    expect(() => readIdx(Buffer.concat([header, body.subarray(0, 5)]), 'x.idx')).toThrow(/x.idx is truncated or corrupt/);
  });

  it('image-folder: decodes PNG/JPEG class folders, resizes, labels by sorted class name; a corrupt file is a DataError naming it', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'imgfolder-'));
    const colours = { blue: [0, 0, 255], red: [255, 0, 0] } as const;
    for (const split of ['train', 'test'])
      for (const [name, rgb] of Object.entries(colours)) {
        fs.mkdirSync(path.join(root, split, name), { recursive: true });
        for (let i = 0; i < 3; i++) {
          const img = sharp({ create: { width: 10, height: 8, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
          await (i === 0 ? img.jpeg() : img.png()).toFile(path.join(root, split, name, `${i}.${i === 0 ? 'jpg' : 'png'}`));
        }
      }
    const d = await (await make({ type: 'image-folder', root, size: 4 })).load();
    expect(d.info).toMatchObject({ height: 4, width: 4, channels: 3, numClasses: 2, classNames: ['blue', 'red'] });
    expect(d.train.count).toBe(6);
    expect(Array.from(d.train.labels)).toEqual([0, 0, 0, 1, 1, 1]);
    // a red image: first pixel ~ (255, 0, 0)
    const px = 4 * 4 * 3;
    expect(d.train.images[3 * px]).toBeGreaterThan(240);
    expect(d.train.images[3 * px + 2]).toBeLessThan(15);
    expect(d.test!.count).toBe(6);
    fs.writeFileSync(path.join(root, 'train', 'red', '9.png'), 'not an image');
    await expect((await make({ type: 'image-folder', root, size: 4 })).load()).rejects.toThrow(DataError);
    await expect((await make({ type: 'image-folder', root, size: 4 })).load()).rejects.toThrow(/cannot decode .*9\.png/);
  });
});
