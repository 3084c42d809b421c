import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { browserTest, launchChromium } from '../browser.js';
import { SelfsupError, embedCheckpoint, gatherImages, normalizeImages, readNpy, runExperiment, tf, type Tensor4D } from '../../cli/api.js';
import { rebuildFromCheckpoint } from '../helpers.js';
import { embedCommand } from '../../cli/commands/embed.js';

// A tiny run on the embedded Fashion-MNIST (300 train, 200 test images), 3 steps: enough for a
// checkpoint, batch-norm statistics away from their initial values and the trainer's kNN in result.json.
const DATA = { type: 'fashion-mnist', trainLimit: 300, testLimit: 200 };
const config = {
  name: 'embed-test',
  seed: 3,
  backend: 'auto',
  data: DATA,
  encoder: { type: 'small-cnn', widths: [8, 16] },
  augmenter: { type: 'multi-view', views: 2, pipeline: [{ type: 'random-resized-crop', scale: [0.5, 1] }, { type: 'horizontal-flip' }] },
  head: { type: 'mlp', layers: 2, hiddenDim: 16, outDim: 8 },
  target: { type: 'shared' },
  negatives: { type: 'in-batch' },
  loss: { type: 'info-nce', temperature: 0.5 },
  optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 },
  train: { epochs: 1, batchSize: 100 },
  eval: { every: 0, monitor: [], final: [{ type: 'knn' }] },
};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-embed-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let run: Promise<string> | undefined;
const trained = () => (run ??= runExperiment(config, { outDir: path.join(tmp, 'run'), log: () => {} }).then(() => path.join(tmp, 'run')));

/** h of a split's first `n` images, computed here from the checkpoint (independently of embed's code path) */
async function independentH(dir: string, split: 'train' | 'test', n: number, data = DATA) {
  const parts = await rebuildFromCheckpoint(dir, [`data=${JSON.stringify(data)}`]);
  const set = split === 'train' ? parts.data.train : parts.data.test!;
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const h = tf.tidy(() => parts.encoder.forward(normalizeImages(gatherImages(set, parts.info, idx) as Tensor4D, parts.info), false).h);
  const x = h.dataSync() as Float32Array;
  const dim = h.shape[1]!;
  h.dispose();
  return { x, dim, labels: Array.from(set.labels.subarray(0, n)), numClasses: parts.info.numClasses, classNames: parts.info.classNames! };
}

/** a plain weighted kNN: cosine similarity, the k most similar vote exp(sim / T), the largest vote wins */
function tinyKnn(train: { x: Float32Array; dim: number; labels: number[] }, test: typeof train, numClasses: number, k = 20, T = 0.1): number {
  const unit = (f: typeof train, i: number) => {
    const r = Array.from(f.x.subarray(i * f.dim, (i + 1) * f.dim));
    const n = Math.hypot(...r) || 1;
    return r.map((v) => v / n);
  };
  const tr = train.labels.map((_, i) => unit(train, i));
  let correct = 0;
  test.labels.forEach((label, i) => {
    const q = unit(test, i);
    const sims = tr.map((t, j) => [t.reduce((s, v, d) => s + v * q[d], 0), j]).sort((a, b) => b[0] - a[0]);
    const votes = new Array(numClasses).fill(0);
    for (const [s, j] of sims.slice(0, k)) votes[train.labels[j]] += Math.exp(s / T);
    if (votes.indexOf(Math.max(...votes)) === label) correct++;
  });
  return correct / test.labels.length;
}

const PYTHON = '/usr/bin/python3';
const numpy = fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
if (!numpy) console.warn(`features.npy is not read back with numpy: ${PYTHON} with numpy not found (apt-get install python3-numpy)`);

const itInBrowser = browserTest("the embedding page's browser test");

// 8 rows of 9 images (query + 8 neighbours), each 28 px + a 1 px frame on each side, x3, 2 px gaps
const CELL = (28 + 2) * 3 + 2;
const PNG_SIZE = { width: 9 * CELL + 2, height: 8 * CELL + 2 };

describe('selfsup embed', () => {
  const out = path.join(tmp, 'embed');
  let first: Awaited<ReturnType<typeof embedCheckpoint>> | undefined;
  const embedded = async () => (first ??= await embedCheckpoint(await trained(), { out, umapEpochs: 100 }));

  it("features.npy holds the test split's h ([N, D] float32, NPY 1.0), equal to h computed independently; numpy reads it", async () => {
    const dir = await trained();
    const r = await embedded();
    expect(r.split).toBe('test');
    const want = await independentH(dir, 'test', 200);
    expect([r.n, r.d]).toEqual([200, want.dim]);
    const bytes = fs.readFileSync(path.join(out, 'features.npy'));
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]));
    const headerLen = bytes.readUInt16LE(8);
    expect((10 + headerLen) % 64).toBe(0);
    expect(bytes.subarray(10, 10 + headerLen).toString('latin1')).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(200, \d+\), \} *\n$/);
    const { shape, data } = readNpy(bytes);
    expect(shape).toEqual([200, want.dim]);
    let maxDiff = 0;
    for (let i = 0; i < data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(data[i] - want.x[i]));
    expect(maxDiff).toBeLessThan(1e-5);
    if (!numpy) return;
    const py = spawnSync(
      PYTHON,
      [
        '-c',
        'import sys, numpy as np; a = np.load(sys.argv[1]); print(a.dtype, a.shape, a.flags.c_contiguous); print(repr(float(a[3, 1])))',
        path.join(out, 'features.npy'),
      ],
      { encoding: 'utf8' },
    );
    expect(py.status, py.stderr).toBe(0);
    const [summary, value] = py.stdout.trim().split('\n');
    expect(summary).toBe(`float32 (200, ${want.dim}) True`);
    expect(Number(value)).toBe(data[3 * want.dim + 1]);
  }, 240_000);

  it('index.csv: a row per image with its label and class name; the picture is 8 rows of 9 framed images; umap.json has a point each', async () => {
    const dir = await trained();
    await embedded();
    const want = await independentH(dir, 'test', 200);
    const lines = fs.readFileSync(path.join(out, 'index.csv'), 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('index,label,class,path');
    expect(lines.length - 1).toBe(200);
    lines.slice(1).forEach((line, i) => {
      const [index, label, ...rest] = line.split(',');
      expect(Number(index)).toBe(i);
      expect(Number(label)).toBe(want.labels[i]);
      expect(rest.join(',')).toBe(`${/,/.test(want.classNames[want.labels[i]]) ? `"${want.classNames[want.labels[i]]}"` : want.classNames[want.labels[i]]},`);
    });
    const meta = await sharp(path.join(out, 'neighbours.png')).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'png', ...PNG_SIZE });
    const umap = JSON.parse(fs.readFileSync(path.join(out, 'umap.json'), 'utf8'));
    expect(umap.points).toHaveLength(200);
    expect(umap.points.flat().every(Number.isFinite)).toBe(true);
    expect(umap.params).toMatchObject({ nNeighbors: 15, minDist: 0.1, epochs: 100 });
    expect(umap.labels).toEqual(want.labels);
  }, 240_000);

  it("the kNN top-1 (k=20, cosine) equals a tiny independent kNN's, and the trainer's kNN comes from result.json", async () => {
    const dir = await trained();
    const r = await embedded();
    const train = await independentH(dir, 'train', 300);
    const test = await independentH(dir, 'test', 200);
    expect(r.knn_top1).toBe(tinyKnn(train, test, test.numClasses));
    const result = JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8'));
    expect(r.trainer_knn_top1).toBe(result.eval.knn_top1);
    expect(r.trainer_knn_k).toBe(200);
    // the same kNN as the trainer's, on the embedded features, gives the trainer's number: they are the features it evaluated
    expect(r.knn_top1_trainer_k).toBe(result.eval.knn_top1);
  }, 240_000);

  it('--split train --limit, --data overriding the dataset: N rows of the train split, kNN against the (overridden) test split', async () => {
    const dir = await trained();
    const data = { type: 'fashion-mnist', trainLimit: 300, testLimit: 80 };
    const r = await embedCheckpoint(dir, { out: path.join(tmp, 'train-split'), split: 'train', limit: 60, data: JSON.stringify(data), umapEpochs: 20 });
    expect([r.split, r.n]).toEqual(['train', 60]);
    const train = await independentH(dir, 'train', 60, data);
    const test = await independentH(dir, 'test', 80, data);
    expect(readNpy(fs.readFileSync(path.join(r.out, 'features.npy'))).shape).toEqual([60, train.dim]);
    expect(r.knn_top1).toBe(tinyKnn(train, test, test.numClasses));
  }, 240_000);

  it("an image-folder dataset (--data): index.csv names each image's file and class folder", async () => {
    const dir = await trained();
    const root = path.join(tmp, 'folder');
    for (const split of ['train', 'test'])
      for (const [c, cls] of ['boots', 'shirts'].entries()) {
        fs.mkdirSync(path.join(root, split, cls), { recursive: true });
        for (let i = 0; i < 3; i++) {
          const px = Buffer.alloc(28 * 28, 0).map((_, j) => ((j % 28) * (c + 1) * 9 + i * 17 + (split === 'test' ? 5 : 0)) % 256);
          await sharp(px, { raw: { width: 28, height: 28, channels: 1 } })
            .png()
            .toFile(path.join(root, split, cls, `img ${i}, "${cls}".png`));
        }
      }
    const r = await embedCheckpoint(dir, {
      out: path.join(tmp, 'folder-embed'),
      data: { type: 'image-folder', root, size: 28, channels: 1 },
      sets: ['train.batchSize=4'],
      umapEpochs: 5,
    });
    expect(r.n).toBe(6);
    const lines = fs.readFileSync(path.join(r.out, 'index.csv'), 'utf8').trimEnd().split('\n');
    expect(lines).toEqual([
      'index,label,class,path',
      ...['boots', 'shirts'].flatMap((cls, c) =>
        [0, 1, 2].map((i) => `${3 * c + i},${c},${cls},"${path.join(root, 'test', cls, `img ${i}, ""${cls}"".png`)}"`),
      ),
    ]);
  }, 240_000);

  it('refuses to replace a non-empty --out without --force, and a run directory even with it; --force replaces; nothing staged is left', async () => {
    const dir = await trained();
    await embedded();
    const before = fs.readFileSync(path.join(out, 'features.npy'));
    await expect(embedCheckpoint(dir, { out })).rejects.toThrow(/exists and is not empty: give another --out, or --force/);
    await expect(embedCheckpoint(dir, { out })).rejects.toBeInstanceOf(SelfsupError);
    await expect(embedCheckpoint(dir, { out: dir, force: true })).rejects.toThrow(/holds a run \(checkpoint.json\)/);
    fs.writeFileSync(path.join(out, 'stale.txt'), 'x');
    const r = await embedCheckpoint(dir, { out, force: true, umapEpochs: 10, limit: 40 });
    expect(r.n).toBe(40);
    expect(fs.readdirSync(out).sort()).toEqual(['features.npy', 'index.csv', 'index.html', 'neighbours.png', 'umap.json']);
    expect(fs.readFileSync(path.join(out, 'features.npy')).length).toBeLessThan(before.length);
    expect(fs.readdirSync(tmp).filter((f) => /\.(tmp|old)-/.test(f))).toEqual([]);
    first = undefined; // the default embedding was replaced: the browser test writes its own
  }, 240_000);

  it('the command with --json prints one JSON line: out, N, D, kNN, the trainer kNN, seconds', async () => {
    const dir = await trained();
    const writes: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (writes.push(String(s)), true));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await embedCommand({ checkpoint: dir, out: path.join(tmp, 'json'), split: 'test', limit: '30', set: [], plugin: [], json: true });
    } finally {
      spy.mockRestore();
      err.mockRestore();
    }
    expect(writes).toHaveLength(1);
    const line = JSON.parse(writes[0]);
    expect(line).toMatchObject({ out: path.join(tmp, 'json'), split: 'test', n: 30, knn_k: 20, trainer_knn_k: 200 });
    expect(Object.keys(line)).toEqual(expect.arrayContaining(['d', 'knn_top1', 'trainer_knn_top1', 'seconds', 'preset', 'step']));
  }, 240_000);

  itInBrowser(
    'index.html in headless Chromium, network blocked: N points, a legend entry per class, the neighbours picture loaded',
    async () => {
      const dir = await trained();
      const r = await embedCheckpoint(dir, { out: path.join(tmp, 'page'), limit: 120, umapEpochs: 50 });
      const browser = await launchChromium();
      try {
        const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
        const requests: string[] = [];
        const blocked: string[] = [];
        const errors: string[] = [];
        page.on('request', (q) => requests.push(q.url()));
        page.on('pageerror', (e) => errors.push(e.message));
        // anything but the page's own files is refused (and recorded)
        await page.route('**/*', (route) => {
          const url = route.request().url();
          if (url.startsWith('file://')) return route.continue();
          blocked.push(url);
          return route.abort();
        });
        await page.goto(`file://${path.join(r.out, 'index.html')}`);
        await page.waitForFunction("document.getElementById('neighbours').complete");
        expect(errors).toEqual([]);
        expect(blocked).toEqual([]);
        expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
        expect(await page.locator('#scatter circle.pt').count()).toBe(120);
        expect(await page.locator('#legend li').count()).toBe(10);
        expect(await page.locator('#legend li').first().innerText()).toContain('T-shirt/top');
        expect(await page.locator('#neighbours').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(PNG_SIZE.width);
        const table = await page.locator('table').innerText();
        expect(table).toContain('images (N)\t120');
        expect(table).toContain(`feature size (D)\t${r.d}`);
        expect(table).toContain(`${(100 * r.knn_top1!).toFixed(2)}%`);
        expect(table).toContain(`${(100 * r.trainer_knn_top1!).toFixed(2)}%`);
        // hovering a point shows its index and class
        await page.locator('#scatter circle.pt').nth(5).hover();
        expect(await page.locator('#tip').innerText()).toMatch(/^#5: .+ \(label \d\)$/);
      } finally {
        await browser.close();
      }
    },
    240_000,
  );
});
