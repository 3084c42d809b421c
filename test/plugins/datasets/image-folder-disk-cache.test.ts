import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError, Rng, readPixels, runExperiment } from '../../../cli/api.js';
import { tinySimclr } from '../../helpers.js';
import { FolderFixtures } from './image-folder-fixtures.js';

const fx = new FolderFixtures();
afterAll(() => fx.cleanup());

/** The pixel cache folders under a cache dir (whole ones and leftovers alike). */
const cacheEntries = (cacheDir: string) => fs.readdirSync(path.join(cacheDir, 'image-folder')).sort();

describe('image-folder cache: "disk"', () => {
  it('gives what cache "memory" gives (pixels, labels, paths, mean/std), then reuses the pixel file without decoding', async () => {
    const root = await fx.makeFolder(8);
    // the image overwritten below has a time with a fraction of a millisecond; put back as a Date, it
    // comes back just under its millisecond (Node passes float seconds), and the key must see the same one
    const victim = path.join(root, 'train', 'a', '05.png');
    fs.utimesSync(victim, 1764700000.1234, 1764700000.1234);
    const cacheDir = fx.tempDir('pixcache-');
    const mem = await fx.load({ root, size: 8 });
    const disk = await fx.load({ root, size: 8, cache: 'disk', cacheDir });
    expect(disk.d.train.source).toBeDefined();
    expect(() => disk.d.train.images).toThrow(DataError);
    // the statistics of every image, as in memory (not the sample of cache "none")
    expect(disk.d.info).toEqual(mem.d.info);
    for (const split of ['train', 'test'] as const) {
      const m = mem.d[split]!;
      const k = disk.d[split]!;
      expect(Array.from(k.labels)).toEqual(Array.from(m.labels));
      expect(k.paths).toEqual(m.paths);
      const order = Rng.fromSeed(3, 'order').permutation(m.count);
      expect(Buffer.from(await readPixels(k, disk.d.info, order)).equals(Buffer.from(await readPixels(m, mem.d.info, order)))).toBe(true);
      // consecutive indices are read as one run: the same bytes
      const run = Int32Array.from({ length: m.count }, (_, i) => i);
      expect(Buffer.from(await readPixels(k, disk.d.info, run)).equals(Buffer.from(await readPixels(m, mem.d.info, run)))).toBe(true);
    }
    expect(disk.logs.join('\n')).toMatch(/decoding 24 images once into the pixel cache/);
    expect(disk.logs.join('\n')).toMatch(/cache disk \(built .*image-folder[/\\][0-9a-f]{32}, built .*\)/);
    expect(cacheEntries(cacheDir)).toHaveLength(2); // train and test, nothing staged left

    // garbage of the same length and modification time in place of one image: a second load that
    // decoded anything would refuse it; the cache's pixels are read instead
    expect(disk.d.train.paths![5]).toBe(victim);
    const st = fs.statSync(victim);
    fs.writeFileSync(victim, Buffer.alloc(st.size, 0x2a));
    fs.utimesSync(victim, st.atime, st.mtime);
    expect(fs.statSync(victim).mtimeMs).toBeLessThan(1764700000123);
    const again = await fx.load({ root, size: 8, cache: 'disk', cacheDir });
    expect(again.logs.join('\n')).not.toMatch(/decoding/);
    expect(again.logs.join('\n')).toMatch(/cache disk \(reused .*, reused .*\)/);
    expect(again.d.info).toEqual(mem.d.info);
    const all = Int32Array.from({ length: mem.d.train.count }, (_, i) => i);
    expect(Buffer.from(await readPixels(again.d.train, again.d.info, all)).equals(Buffer.from(await readPixels(mem.d.train, mem.d.info, all)))).toBe(true);
  });

  it('a changed file gives a new cache with its new pixels; a leftover staging folder and a cut pixel file are never read', async () => {
    const root = await fx.makeFolder(4);
    const cacheDir = fx.tempDir('pixcache-');
    const first = await fx.load({ root, size: 8, cache: 'disk', cacheDir, test: '' });
    const [key] = cacheEntries(cacheDir);
    // one image replaced by a flat grey one (another size and time)
    const file = first.d.train.paths![2];
    await sharp({ create: { width: 12, height: 12, channels: 3, background: { r: 90, g: 90, b: 90 } } })
      .png()
      .toFile(`${file}.new.png`);
    fs.renameSync(`${file}.new.png`, file);
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const changed = await fx.load({ root, size: 8, cache: 'disk', cacheDir, test: '' });
    expect(changed.logs.join('\n')).toMatch(/decoding 12 images once/);
    expect(cacheEntries(cacheDir)).toHaveLength(2);
    expect(Array.from(await readPixels(changed.d.train, changed.d.info, [2]))).toEqual(new Array(8 * 8 * 3).fill(90));
    const newKey = cacheEntries(cacheDir).find((k) => k !== key)!;

    // a killed build's staging folder beside it is ignored; a pixel file cut short is rebuilt
    fs.mkdirSync(path.join(cacheDir, 'image-folder', `${newKey}.tmp-1-1`));
    fs.writeFileSync(path.join(cacheDir, 'image-folder', `${newKey}.tmp-1-1`, 'index.json'), '{"format":1,"count":0}');
    const pixels = path.join(cacheDir, 'image-folder', newKey, 'pixels.u8');
    fs.truncateSync(pixels, fs.statSync(pixels).size - 10);
    const rebuilt = await fx.load({ root, size: 8, cache: 'disk', cacheDir, test: '' });
    expect(rebuilt.logs.join('\n')).toMatch(/is not whole .*building it again/);
    expect(fs.statSync(pixels).size).toBe(12 * 8 * 8 * 3);
    expect(Array.from(await readPixels(rebuilt.d.train, rebuilt.d.info, [2]))).toEqual(new Array(8 * 8 * 3).fill(90));
  });

  it('bad files: "skip" drops and counts them when built and when reused; "error" refuses them, also from a cache built with "skip"', async () => {
    const root = await fx.makeFolder(6);
    fs.writeFileSync(path.join(root, 'train', 'c', 'zz-text.jpg'), 'not a JPEG at all');
    const cacheDir = fx.tempDir('pixcache-');
    await expect(fx.load({ root, size: 8, cache: 'disk', cacheDir, test: '' })).rejects.toThrow(/cannot decode .*zz-text\.jpg/);
    expect(cacheEntries(cacheDir).filter((e) => !e.includes('.tmp-'))).toEqual([]); // a failed build leaves no cache
    const built = await fx.load({ root, size: 8, cache: 'disk', cacheDir, test: '', onBadImage: 'skip' });
    expect(built.d.train.count).toBe(18);
    expect(built.logs.join('\n')).toMatch(/skipped 1 bad image\b/);
    const reused = await fx.load({ root, size: 8, cache: 'disk', cacheDir, test: '', onBadImage: 'skip' });
    expect(reused.logs.join('\n')).toMatch(/cache disk \(reused .*\); skipped 1 bad image\b/);
    await expect(fx.load({ root, size: 8, cache: 'disk', cacheDir, test: '' })).rejects.toThrow(
      /cannot decode .*zz-text\.jpg: .*found when the pixel cache .* was built/,
    );
  });

  it('trains from the pixel cache', async () => {
    const root = await fx.makeFolder(8);
    const cacheDir = fx.tempDir('pixcache-');
    const logs: string[] = [];
    const r = await runExperiment(
      tinySimclr({
        data: { type: 'image-folder', root, size: 12, cache: 'disk', cacheDir },
        train: { epochs: 1, batchSize: 8, maxSteps: 3, checkpointEvery: 0 },
        eval: { every: 0, monitor: [], final: [{ type: 'knn', k: 3 }], baseline: false },
      }),
      { log: (m) => logs.push(m) },
    );
    expect(r.steps).toBe(3);
    expect(r.losses.every(([, loss]) => Number.isFinite(loss))).toBe(true);
    expect(r.eval.knn_top1).toBeGreaterThan(0);
    await r.parts.data.train.source?.close?.();
    await r.parts.data.test?.source?.close?.();
  });
});
