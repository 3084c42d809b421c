import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  DataError,
  Rng,
  createRegistry,
  runEvaluators,
  validateConfig,
  type Branch,
  type Dataset,
  type Evaluator,
  type LoadedDataset,
} from '../../../cli/api.js';
import { tinySimclr } from '../../helpers.js';
import { cifarArchive, cifarPixel, serveFile, sha256, stlArchive, stlPixel, type FileServer } from './archive-fixtures.js';

const registry = createRegistry();
const make = async (ref: { type: string; [k: string]: unknown }) =>
  (await registry.create('dataset', ref, { seed: 0, rng: Rng.fromSeed(0), path: '/data', registry, log: () => {} })) as Dataset;

/** load() with stderr captured */
const load = async (ref: { type: string; [k: string]: unknown }) => {
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { data: await (await make(ref)).load(), stderr };
  } finally {
    spy.mockRestore();
  }
};

const cifar = cifarArchive();
const stl = stlArchive();
let cifarServer: FileServer;
let stlServer: FileServer;
beforeAll(async () => {
  cifarServer = await serveFile('cifar-10-binary.tar.gz', cifar.archive);
  stlServer = await serveFile('stl10_binary.tar.gz', stl.archive);
});
afterAll(async () => {
  await cifarServer.close();
  await stlServer.close();
});
const tmpCache = () => fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-cache-'));

describe('cifar10', () => {
  it('downloads the binary archive with progress, decodes planes to interleaved RGB; the second run makes no request', async () => {
    const cacheDir = tmpCache();
    const ref = { type: 'cifar10', download: true, cacheDir, url: cifarServer.url, sha256: sha256(cifar.archive) };
    const { data, stderr } = await load(ref);
    expect(stderr).toMatch(/downloading cifar-10-binary\.tar\.gz/);
    expect(stderr).toMatch(/cifar-10-binary\.tar\.gz: [\d.]+\/[\d.]+ kB \(100\.0%\) [\d.]+ MB\/s/);
    expect(cifarServer.requests).toHaveLength(1);
    expect(data.info).toMatchObject({ name: 'cifar10', height: 32, width: 32, channels: 3, numClasses: 10 });
    expect(data.info.classNames![1]).toBe('automobile');
    expect(data.train.count).toBe(10);
    expect(Array.from(data.train.labels)).toEqual(cifar.trainLabels);
    expect(data.test!.count).toBe(3);
    expect(Array.from(data.test!.labels)).toEqual(cifar.testLabels);
    // image 3 (data_batch_2's second record), row 1, column 2: p = 34 -> R 127, G 212, B 41
    const at = (n: number, y: number, x: number, c: number) => data.train.images[n * 3072 + (y * 32 + x) * 3 + c];
    expect([at(3, 1, 2, 0), at(3, 1, 2, 1), at(3, 1, 2, 2)]).toEqual([127, 212, 41]);
    expect([cifarPixel(3, 0, 34), cifarPixel(3, 1, 34), cifarPixel(3, 2, 34)]).toEqual([127, 212, 41]);
    // every pixel of every image, train and test
    for (let n = 0; n < 10; n++)
      for (let p = 0; p < 1024; p += 37) for (let c = 0; c < 3; c++) expect(data.train.images[n * 3072 + p * 3 + c]).toBe(cifarPixel(n, c, p));
    expect(data.test!.images[2 * 3072 + 5 * 3 + 2]).toBe(cifarPixel(2, 2, 5));
    expect(data.info.mean).toHaveLength(3);
    expect(data.info.std[0]).toBeGreaterThan(0);

    const again = await load({ ...ref, trainLimit: 3, testLimit: 1 });
    expect(cifarServer.requests).toHaveLength(1);
    expect(again.stderr).toBe('');
    expect(again.data.train.count).toBe(3);
    expect(again.data.test!.count).toBe(1);
  });

  it('offline without the archive: a DataError naming the file, the cache folder and the URL', async () => {
    const cacheDir = tmpCache();
    const err = await (await make({ type: 'cifar10', cacheDir })).load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toBe(
      `cifar-10-binary.tar.gz not found in ${path.join(cacheDir, 'cifar10')}: download it from https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz and put it there, or set download: true`,
    );
  });

  it('the official SHA-256 refuses any other archive', async () => {
    const cacheDir = tmpCache();
    await expect(load({ type: 'cifar10', cacheDir, download: true, url: cifarServer.url })).rejects.toThrow(
      /expected c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd/,
    );
    expect(fs.readdirSync(path.join(cacheDir, 'cifar10'))).toEqual([]);
  });
});

describe('stl10', () => {
  let cacheDir: string;
  let ref: { type: string; [k: string]: unknown };
  beforeAll(() => {
    cacheDir = tmpCache();
    ref = { type: 'stl10', download: true, cacheDir, url: stlServer.url, sha256: sha256(stl.archive) };
  });
  const at = (set: { images: Uint8Array }, side: number, n: number, y: number, x: number, c: number) => set.images[((n * side + y) * side + x) * 3 + c];

  it('downloads, transposes the column-major planes and shifts the labels 1..10 to 0..9', async () => {
    const { data, stderr } = await load(ref);
    expect(stderr).toMatch(/stl10_binary\.tar\.gz: .*\(100\.0%\)/);
    expect(data.info).toMatchObject({ name: 'stl10', height: 96, width: 96, channels: 3, numClasses: 10 });
    expect(data.info.classNames![7]).toBe('monkey');
    expect(data.train.count).toBe(3);
    expect(Array.from(data.train.labels)).toEqual([0, 9, 4]);
    expect(data.evalTrain).toBeUndefined();
    expect(Array.from(data.test!.labels)).toEqual([1, 6]);
    // image 1, row 2, column 5, green: 13 + 60 + 4 + 25 = 102; transposed it would be (row 5, column 2) = 13 + 60 + 10 + 10 = 93
    expect(at(data.train, 96, 1, 2, 5, 1)).toBe(102);
    expect(at(data.train, 96, 1, 5, 2, 1)).toBe(93);
    expect(stlPixel(1, 1, 2, 5)).toBe(102);
    for (let n = 0; n < 3; n++)
      for (let y = 0; y < 96; y += 7)
        for (let x = 0; x < 96; x += 11) for (let c = 0; c < 3; c++) expect(at(data.train, 96, n, y, x, c)).toBe(stlPixel(n, c, y, x));
    expect(at(data.test!, 96, 1, 95, 0, 2)).toBe(stlPixel(101, 2, 95, 0));
  });

  it('train+unlabeled: labelled first, unlabelled as -1; evaluators get the labelled images only; no second request', async () => {
    const before = stlServer.requests.length;
    const { data } = await load({ ...ref, split: 'train+unlabeled', unlabeledLimit: 3 });
    expect(stlServer.requests.length).toBe(before);
    expect(data.train.count).toBe(6);
    expect(Array.from(data.train.labels)).toEqual([0, 9, 4, -1, -1, -1]);
    expect(at(data.train, 96, 4, 10, 20, 0)).toBe(stlPixel(201, 0, 10, 20));
    expect(data.evalTrain!.count).toBe(3);
    expect(Array.from(data.evalTrain!.labels)).toEqual([0, 9, 4]);
    expect(at(data.evalTrain!, 96, 2, 3, 4, 2)).toBe(stlPixel(2, 2, 3, 4));

    const unl = (await load({ ...ref, split: 'unlabeled' })).data;
    expect(unl.train.count).toBe(4);
    expect(Array.from(unl.train.labels)).toEqual([-1, -1, -1, -1]);
    expect(at(unl.train, 96, 0, 1, 2, 1)).toBe(stlPixel(200, 1, 1, 2));
    expect(unl.evalTrain!.count).toBe(3);
    expect(at(unl.evalTrain!, 96, 1, 2, 5, 1)).toBe(102);

    // the evaluators' training split is evalTrain; a dataset with unlabelled images and no evalTrain is refused
    let seen = -1;
    const probe: Evaluator = {
      async evaluate(ctx) {
        seen = ctx.images('train').count;
        return { n: seen };
      },
    };
    const branch = {} as Branch;
    await runEvaluators([probe], branch, unl, { batchSize: 2, seed: 0 });
    expect(seen).toBe(3);
    const noEval: LoadedDataset = { ...unl, evalTrain: undefined };
    await expect(runEvaluators([probe], branch, noEval, { batchSize: 2, seed: 0 })).rejects.toThrow(/no label \(-1\).*evalTrain/);
  });

  it('size downscales while reading (sharp)', async () => {
    const { data } = await load({ ...ref, size: 48, split: 'train+unlabeled' });
    expect(data.info).toMatchObject({ height: 48, width: 48 });
    expect(data.train.images.length).toBe(7 * 48 * 48 * 3);
    expect(data.evalTrain!.images.length).toBe(3 * 48 * 48 * 3);
    // a smooth ramp stays a ramp: the value grows by about 2*2 per output row and 5*2 per output column
    const v = (y: number, x: number) => at(data.train, 48, 0, y, x, 0);
    expect(Math.abs(v(10, 10) - stlPixel(0, 0, 21, 21))).toBeLessThanOrEqual(3);
    expect(v(10, 11) - v(10, 10)).toBeGreaterThan(v(11, 10) - v(10, 10));
  });

  it('a truncated file in the extracted folder is a DataError naming it', async () => {
    const dir = path.join(cacheDir, 'stl10', 'stl10_binary');
    fs.truncateSync(path.join(dir, 'test_X.bin'), 27648 + 100);
    await expect((await make({ ...ref, dir })).load()).rejects.toThrow(/test_X\.bin has 27748 bytes, not a whole number/);
  });
});

describe('config', () => {
  it('both validate in a config with defaults filled; a wrong split or hash is a ConfigError', () => {
    const r = validateConfig(tinySimclr({ data: { type: 'stl10', split: 'train+unlabeled', unlabeledLimit: 1000, size: 64 } }), createRegistry());
    expect(r.data).toMatchObject({ type: 'stl10', download: false, split: 'train+unlabeled', concurrency: 8 });
    expect(validateConfig(tinySimclr({ data: { type: 'cifar10', download: true } }), createRegistry()).data).toMatchObject({ type: 'cifar10', download: true });
    expect(() => validateConfig(tinySimclr({ data: { type: 'stl10', split: 'extra' } }), createRegistry())).toThrow(ConfigError);
    expect(() => validateConfig(tinySimclr({ data: { type: 'cifar10', sha256: 'abc' } }), createRegistry())).toThrow(/sha256/);
  });
});
