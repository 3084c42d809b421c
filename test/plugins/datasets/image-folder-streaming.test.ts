import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BatchQueue,
  DataError,
  Rng,
  batchesOf,
  makeBatch,
  readPixels,
  resolveExperiment,
  runExperiment,
  streamingImageSet,
  train,
  type ImageSet,
  type LoadedDataset,
} from '../../../cli/api.js';
import { tinySimclr } from '../../helpers.js';
import { FolderFixtures } from './image-folder-fixtures.js';

const fx = new FolderFixtures();
const { registry } = fx;
afterAll(() => fx.cleanup());
const load = (options: Record<string, unknown>) => fx.load(options);
const makeFolder = (perClass: number, side?: number) => fx.makeFolder(perClass, side);

const all = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

describe('image-folder streaming (cache: "none")', () => {
  it('gives the same pixels, labels, statistics and batches as cache "memory", with worker threads or without', async () => {
    const root = await makeFolder(8);
    const mem = await load({ root, size: 8 });
    const none = await load({ root, size: 8, cache: 'none', workers: 2 });
    const main = await load({ root, size: 8, cache: 'none', workers: 0 });
    expect(none.d.train.source).toBeDefined();
    expect(mem.d.train.source).toBeUndefined();
    expect(() => none.d.train.images).toThrow(DataError);
    expect(none.d.info).toEqual(mem.d.info);
    expect(main.d.info).toEqual(mem.d.info);
    for (const split of ['train', 'test'] as const) {
      const m = mem.d[split]!;
      const n = none.d[split]!;
      expect(n.count).toBe(m.count);
      expect(Array.from(n.labels)).toEqual(Array.from(m.labels));
      expect(n.paths).toEqual(m.paths);
      const order = Rng.fromSeed(3, 'order').permutation(m.count);
      const fromNone = await readPixels(n, none.d.info, order);
      expect(Buffer.from(fromNone).equals(Buffer.from(await readPixels(m, mem.d.info, order)))).toBe(true);
      expect(Buffer.from(await readPixels(main.d[split]!, main.d.info, order)).equals(Buffer.from(fromNone))).toBe(true);
    }
    // the trainer's batches of one epoch: same tensors, indices and labels
    const order = Rng.fromSeed(0, 'shuffle/0').permutation(mem.d.train.count);
    const batches = batchesOf(order, 8, 0, 3);
    const queue = new BatchQueue(none.d.train, none.d.info, batches, 2);
    for (const idx of batches) {
      const a = makeBatch(mem.d.train, mem.d.info, idx);
      const b = await queue.take();
      expect(Array.from(b.index)).toEqual(Array.from(a.index));
      expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
      expect(Buffer.from(b.x.dataSync().buffer).equals(Buffer.from(a.x.dataSync().buffer))).toBe(true);
      a.x.dispose();
      b.x.dispose();
    }
    expect(none.logs.join('\n')).toMatch(/data: 24 images \(\+ 12 test\), 3 classes, 8x8x3, cache none \(2 decoding threads; mean\/std of 24 images\)/);
  });

  it('converts grey and RGBA files to the declared channels and resizes mixed sizes', async () => {
    const root = fx.tempDir('imgmixed-');
    const dir = path.join(root, 'train', 'x');
    fs.mkdirSync(dir, { recursive: true });
    await sharp(Buffer.alloc(6 * 6, 77), { raw: { width: 6, height: 6, channels: 1 } })
      .png()
      .toFile(path.join(dir, 'a-grey.png'));
    await sharp(Buffer.from(Array.from({ length: 10 * 10 }, () => [200, 10, 30, 128]).flat()), { raw: { width: 10, height: 10, channels: 4 } })
      .png()
      .toFile(path.join(dir, 'b-rgba.png'));
    await sharp({ create: { width: 9, height: 5, channels: 3, background: { r: 0, g: 255, b: 0 } } })
      .png()
      .toFile(path.join(dir, 'c-rgb.png'));
    for (const cache of ['memory', 'none']) {
      const rgb = await load({ root, size: 4, cache, test: '' });
      const px = await readPixels(rgb.d.train, rgb.d.info, all(3));
      expect(px.length).toBe(3 * 4 * 4 * 3);
      expect(Array.from(px.subarray(0, 3))).toEqual([77, 77, 77]); // grey -> 3 equal channels
      // alpha dropped (the resize may round by one)
      Array.from(px.subarray(48, 51)).forEach((v, c) => expect(Math.abs(v - [200, 10, 30][c])).toBeLessThanOrEqual(1));
      expect(Array.from(px.subarray(96, 99))).toEqual([0, 255, 0]);
      const grey = await load({ root, size: 4, cache, test: '', channels: 1 });
      const g = await readPixels(grey.d.train, grey.d.info, all(3));
      expect(g.length).toBe(3 * 4 * 4);
      expect(g[0]).toBe(77);
      expect(g[32]).toBeGreaterThan(150); // green is bright in luminance
    }
    // without size, the first image's size is the set's: another size is refused, with what to do
    await expect(load({ root, cache: 'none', test: '' })).rejects.toThrow(/b-rgba\.png is 10x10, others 6x6: set the dataset's 'size'/);
  });

  it('ignores non-image files and symlink loops, and counts them', async () => {
    const root = await makeFolder(3);
    fs.writeFileSync(path.join(root, 'train', 'a', 'notes.txt'), 'hello');
    fs.writeFileSync(path.join(root, 'train', 'b', '.DS_Store'), '');
    fs.symlinkSync('.', path.join(root, 'train', 'a', 'loop')); // a/loop -> a
    // a sub-folder of a class counts, and its link back up is a loop
    fs.mkdirSync(path.join(root, 'train', 'c', 'deep'));
    fs.copyFileSync(path.join(root, 'train', 'c', '01.png'), path.join(root, 'train', 'c', 'deep', 'x.png'));
    fs.symlinkSync('..', path.join(root, 'train', 'c', 'deep', 'back'));
    for (const cache of ['memory', 'none']) {
      const { d, logs } = await load({ root, size: 8, cache });
      expect(d.train.count).toBe(10);
      expect(d.train.paths!.at(-1)).toMatch(/c[/\\]deep[/\\]x\.png$/);
      expect(logs.join('\n')).toMatch(/ignored 2 non-image files, 2 symlink loops/);
    }
  });

  it('onBadImage "skip" drops bad files (counted) and training goes on; "error" names the file', async () => {
    const root = await makeFolder(8);
    const dir = path.join(root, 'train', 'b');
    fs.writeFileSync(path.join(dir, 'text.jpg'), 'not a JPEG at all');
    // a JPEG whose header is whole but whose scan data stops half-way
    const noise = Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 251));
    const good = await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } })
      .jpeg()
      .toBuffer();
    fs.writeFileSync(path.join(dir, 'trunc.jpg'), good.subarray(0, Math.floor(good.length * 0.6)));
    // memory: both found at load
    const mem = await load({ root, size: 8, onBadImage: 'skip' });
    expect(mem.d.train.count).toBe(24);
    expect(mem.logs.join('\n')).toMatch(/skipped 2 bad images/);
    await expect(load({ root, size: 8 })).rejects.toThrow(DataError);
    await expect(load({ root, size: 8 })).rejects.toThrow(/cannot decode .*text\.jpg/);
    // none: the header check finds the text file at load; the truncated JPEG only when it is read
    const none = await load({ root, size: 8, cache: 'none', onBadImage: 'skip' });
    expect(none.d.train.count).toBe(25);
    expect(none.logs.join('\n')).toMatch(/skipped 1 bad image\b/);
    const t = none.d.train.paths!.findIndex((p) => p.endsWith('trunc.jpg'));
    const px = await readPixels(none.d.train, none.d.info, [t]);
    expect(Buffer.from(px).equals(Buffer.from(await readPixels(none.d.train, none.d.info, [t + 1])))).toBe(true);
    expect((none.d.train.source as unknown as { replaced: number }).replaced).toBe(1);
    // one line per bad file, even where libvips reports the failure over several lines
    const skipLine = none.logs.find((l) => l.includes('trunc.jpg'));
    expect(skipLine).toMatch(/cannot decode .*trunc\.jpg .*in its place/);
    expect(skipLine).not.toContain('\n');
    await expect(load({ root, size: 8, cache: 'none' })).rejects.toThrow(/cannot decode .*text\.jpg/);
    fs.rmSync(path.join(dir, 'text.jpg'));
    // a set this small is all in the mean/std sample: the truncated file is read (and refused) at load
    await expect(load({ root, size: 8, cache: 'none' })).rejects.toThrow(/cannot decode .*trunc\.jpg/);
    fs.writeFileSync(path.join(dir, 'text.jpg'), 'not a JPEG at all');
    // a short training run on the damaged folder, streamed
    const logs: string[] = [];
    const r = await runExperiment(
      tinySimclr({
        data: { type: 'image-folder', root, size: 12, cache: 'none', onBadImage: 'skip', workers: 1 },
        train: { epochs: 1, batchSize: 8, maxSteps: 2, checkpointEvery: 0 },
      }),
      { log: (m) => logs.push(m) },
    );
    expect(r.steps).toBe(2);
    expect(logs.join('\n')).toMatch(/skipped 1 bad image/);
    await r.parts.data.train.source?.close?.();
  });

  it('the trainer reads ahead at most `prefetch` batches (K+1 reads outstanding) and the evaluators stream', async () => {
    const base = (await (
      await registry.create(
        'dataset',
        { type: 'synthetic', train: 64, test: 32, size: 12, classes: 4 },
        { seed: 0, rng: Rng.fromSeed(0), path: '/data', registry, log: () => {} },
      )
    ).load()) as LoadedDataset;
    const px = 12 * 12 * base.info.channels;
    let outstanding = 0;
    let peak = 0;
    let reads = 0;
    const slow = (set: ImageSet) =>
      streamingImageSet(
        {
          async read(indices) {
            outstanding++;
            reads++;
            peak = Math.max(peak, outstanding);
            await new Promise((r) => setTimeout(r, 15));
            const out = new Uint8Array(indices.length * px);
            for (let i = 0; i < indices.length; i++) out.set(set.images.subarray(indices[i] * px, (indices[i] + 1) * px), i * px);
            outstanding--;
            return out;
          },
        },
        set.labels,
      );
    const data: LoadedDataset = { info: base.info, train: slow(base.train), test: slow(base.test!) };
    const K = 2;
    const { config } = await resolveExperiment(
      tinySimclr({ train: { epochs: 2, batchSize: 8, prefetch: K, checkpointEvery: 0 }, eval: { every: 0, monitor: [], final: [{ type: 'knn', k: 5 }] } }),
    );
    const r = await train(config, { registry, data });
    expect(r.steps).toBe(16);
    expect(peak).toBeGreaterThan(1); // it does read ahead
    expect(peak).toBeLessThanOrEqual(K + 1);
    expect(r.eval.knn_top1).toBeGreaterThanOrEqual(0);
    // the same run in memory: identical losses (the streamed batches are the same batches)
    const mem = await train(config, { registry, data: base });
    expect(r.losses).toEqual(mem.losses);
    expect(r.eval.knn_top1).toBe(mem.eval.knn_top1);
    expect(reads).toBeGreaterThan(16);
  });
});
