import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Rng, createRegistry, type Dataset } from '../../../cli/api.js';

const registry = createRegistry();
const make = async (ref: { type: string; [k: string]: unknown }) =>
  (await registry.create('dataset', ref, { seed: 0, rng: Rng.fromSeed(0), path: '/data', registry, log: () => {} })) as Dataset;

describe('photo-patches (the embedded colour set)', () => {
  it('cuts the sheets into 3,000 train and 600 test 32x32 RGB patches, labelled by photograph, every class in the first 128', async () => {
    const d = await (await make({ type: 'photo-patches' })).load();
    expect(d.info).toMatchObject({ height: 32, width: 32, channels: 3, numClasses: 6 });
    expect(d.info.classNames).toEqual(['astronaut', 'cat', 'coffee', 'galaxies', 'retina', 'rocket']);
    expect(d.train.count).toBe(3000);
    expect(d.test!.count).toBe(600);
    expect(d.train.images.length).toBe(3000 * 32 * 32 * 3);
    const counts = new Array(6).fill(0);
    for (const l of d.train.labels) counts[l]++;
    expect(counts).toEqual([500, 500, 500, 500, 500, 500]);
    const first = new Set(d.train.labels.subarray(0, 128));
    expect(first.size).toBe(6);
    // patch 51 is row 1, column 1 of the sheet: its pixels are the sheet's at (32..63, 32..63)
    const sheet = await sharp(path.resolve('data/photo-patches/train.png')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => Array.from(sheet.data.subarray((y * sheet.info.width + x) * 3, (y * sheet.info.width + x) * 3 + 3));
    const patch = (i: number, x: number, y: number) => Array.from(d.train.images.subarray(((i * 32 + y) * 32 + x) * 3, ((i * 32 + y) * 32 + x) * 3 + 3));
    expect(patch(51, 0, 0)).toEqual(at(32, 32));
    expect(patch(51, 31, 5)).toEqual(at(63, 37));
    expect(patch(2999, 7, 31)).toEqual(at(49 * 32 + 7, 59 * 32 + 31));
    // colour: the channels differ (a grey set would have r = g = b); the per-channel means differ too
    expect(new Set(d.info.mean.map((m) => m.toFixed(3))).size).toBe(3);
    const limited = await (await make({ type: 'photo-patches', trainLimit: 100, testLimit: 10 })).load();
    expect(limited.train.count).toBe(100);
    expect(limited.test!.count).toBe(10);
    expect(Array.from(limited.train.images.subarray(0, 3072))).toEqual(Array.from(d.train.images.subarray(0, 3072)));
  });

  it('data/README.md names the licence of each photograph the set is cut from', () => {
    const readme = fs.readFileSync(path.resolve('data/README.md'), 'utf8');
    const sources = fs.readFileSync(path.resolve('data/photo-patches/SOURCES.txt'), 'utf8').trim().split('\n');
    expect(sources).toHaveLength(6);
    for (const line of sources) expect(readme).toContain(`| ${path.basename(line.split(',')[0])} |`);
    expect(readme).toMatch(/public domain/);
    expect(readme).toMatch(/CC0/);
  });
});
