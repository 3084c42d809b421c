import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserBoundary } from '../../browser/twins.js';
import { Rng, createRegistry, evaluateCheckpoint, packTar, readCheckpoint, runExperiment, type Dataset } from '../../cli/api.js';
import { ISOLATION_HEADERS, startPlayground, type Playground } from '../../cli/playground.js';
import { browserTest, launchChromium } from '../browser.js';

const ROOT = path.resolve('.');
const build = (entry: string) =>
  esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    write: false,
    metafile: true,
    logLevel: 'silent',
    define: { 'process.env': '{}' },
    plugins: [browserBoundary(ROOT)],
  });

describe('the browser build', () => {
  it('stops when a Node built-in reaches the bundle, naming the module that imported it', async () => {
    const err = await build('test/fixtures/browser/entry.ts').catch((e: esbuild.BuildFailure) => e);
    expect(err).toBeInstanceOf(Error);
    const texts = (err as esbuild.BuildFailure).errors.map((e) => e.text).join('\n');
    expect(texts).toContain("Node built-in 'node:fs' reached the browser bundle from test/fixtures/browser/uses-fs.ts");
  });

  it('the training worker bundles the portable core and the twins, and nothing of Node', async () => {
    const r = await build('browser/worker.ts');
    const inputs = Object.keys(r.metafile.inputs).filter((f) => !f.includes('node_modules'));
    expect(inputs).toContain('core/portable.ts');
    expect(inputs).toContain('core/engine/simd/kernel-workers.browser.ts');
    expect(inputs).toContain('core/platform/path-exists.browser.ts');
    for (const nodeOnly of ['core/index.ts', 'core/train/trainer.ts', 'core/train/checkpoint.ts', 'core/engine/simd/kernel-workers.ts', 'plugins/index.ts'])
      expect(inputs).not.toContain(nodeOnly);
    const imports = Object.values(r.metafile.inputs).flatMap((i) => i.imports.map((x) => x.path));
    expect(imports.filter((p) => p.startsWith('node:'))).toEqual([]);
  }, 60_000);
});

describe('selfsup playground', () => {
  let pg: Playground;
  beforeAll(async () => {
    pg = await startPlayground({ port: 0 });
  });
  afterAll(() => pg?.close());

  it('serves the page, the presets with extends resolved, and nothing outside its folders, with the isolation headers', async () => {
    const page = await fetch(pg.url);
    expect(page.status).toBe(200);
    for (const [k, v] of Object.entries(ISOLATION_HEADERS)) expect(page.headers.get(k)).toBe(v);
    const presets = (await (await fetch(new URL('/presets.json', pg.url))).json()) as Array<{ name: string; config: Record<string, unknown> }>;
    const byName = new Map(presets.map((p) => [p.name, p.config]));
    expect(byName.get('simclr')).toMatchObject({ data: { type: 'fashion-mnist' }, train: { batchSize: 256 } });
    // simclr-rotation extends simclr: served merged
    expect(byName.get('simclr-rotation')?.extends).toBeUndefined();
    const wasm = await fetch(new URL('/tfjs-wasm/tfjs-backend-wasm-threaded-simd.wasm', pg.url));
    expect([wasm.status, wasm.headers.get('content-type'), wasm.headers.get('cross-origin-embedder-policy')]).toEqual([
      200,
      'application/wasm',
      'require-corp',
    ]);
    for (const bad of ['/data/fashion-mnist/..%2F..%2Fpackage.json', '/data/../package.json', '/package.json', '/tfjs-wasm/x.js'])
      expect((await fetch(new URL(bad, pg.url))).status, bad).toBe(404);
  });

  it('`selfsup playground --port 0` prints its URL, serves the page, and stops on SIGINT with exit 0', async () => {
    const child = spawn(process.execPath, [path.resolve('dist/cli/main.js'), 'playground', '--port', '0']);
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/selfsup playground: (http:\/\/127\.0\.0\.1:\d+\/)/);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    expect((await fetch(url)).headers.get('cross-origin-opener-policy')).toBe('same-origin');
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGINT');
    expect(await exit).toBe(0);
  });

  browserTest('the playground in Chromium')(
    "the browser's photo-patches decodes the PNG sheets it fetches to Node's pixels, labels and statistics (so the colorization preset runs in a tab)",
    async () => {
      const bundle = await build('test/fixtures/browser/photo-patches-entry.ts');
      const node = await (
        (await createRegistry().create(
          'dataset',
          { type: 'photo-patches', testLimit: 100 },
          { seed: 0, rng: Rng.fromSeed(0), path: '/data', registry: createRegistry(), log: () => {} },
        )) as Dataset
      ).load();
      const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        await page.goto(pg.url);
        await page.addScriptTag({ content: bundle.outputFiles[0].text });
        const tab = await page.evaluate(() => (globalThis as unknown as { loadPhotoPatches: () => Promise<unknown> }).loadPhotoPatches());
        expect(tab).toEqual({
          info: node.info,
          counts: [3000, 100],
          labels: [Array.from(node.train.labels), Array.from(node.test!.labels)],
          sha256: [sha(node.train.images), sha(node.test!.images)],
        });
      } finally {
        await browser.close();
      }
    },
    120_000,
  );

  browserTest('the playground in Chromium')(
    'in Chromium: isolated, threads on the backend line, a bad config refused at its path, one epoch of SimCLR (paused and resumed on the way) beats the random-weights kNN it shows, checkpoints cross to Node and back at the same kNN, and the DINO attention maps are drawn',
    async () => {
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const requests: string[] = [];
        page.on('request', (r) => requests.push(r.url()));
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(pg.url);
        expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
        await page.waitForFunction(() => (window as unknown as { playground: { backend: string } }).playground.backend !== '', null, { timeout: 60_000 });
        const backend = (await page.textContent('#backend'))!;
        const cores = await page.evaluate(() => navigator.hardwareConcurrency);
        const threads = Math.max(1, cores);
        expect(backend).toContain(`backend: wasm (SIMD on, ${threads} thread${threads > 1 ? 's' : ''}, selfsup SIMD kernels on ${threads} thread`);
        // the GPU is off in this browser: the WebGPU line says so (playground-webgpu.test.ts has it on)
        await page.waitForFunction(() => (window as unknown as { playground: { gpu: string } }).playground.gpu !== '', null, { timeout: 30_000 });
        expect(await page.textContent('#gpu')).toMatch(/^WebGPU: not used \((the browser granted no WebGPU adapter|this browser has no WebGPU)/);

        // a bad value: refused at its JSON path, nothing starts
        const config = JSON.parse(await page.inputValue('#config'));
        await page.fill('#config', JSON.stringify({ ...config, train: { ...config.train, batchSize: -5 } }, null, 2));
        await page.click('#start');
        await page.waitForFunction(() => document.getElementById('problems')!.textContent !== '', null, { timeout: 30_000 });
        expect(await page.textContent('#problems')).toMatch(/^\/train\/batchSize: /);
        expect(await page.textContent('#step')).toBe('0');
        expect(await page.isEnabled('#start')).toBe(true);

        // one epoch of the simclr preset on the embedded Fashion-MNIST subset
        await page.fill('#config', JSON.stringify({ ...config, train: { ...config.train, epochs: 1 } }, null, 2));
        await page.click('#start');
        // paused after a few steps: at most the step in flight ends, then nothing until resumed
        const stepsDone = () => page.evaluate(() => (window as unknown as { playground: { steps: unknown[] } }).playground.steps.length);
        await page.waitForFunction(() => (window as unknown as { playground: { steps: unknown[] } }).playground.steps.length >= 3, null, { timeout: 120_000 });
        await page.click('#pause');
        const atPause = await stepsDone();
        expect(await page.textContent('#pause')).toBe('Resume');
        await new Promise((r) => setTimeout(r, 3000));
        const settled = await stepsDone();
        expect(settled - atPause).toBeLessThanOrEqual(1);
        await new Promise((r) => setTimeout(r, 3000));
        expect(await stepsDone()).toBe(settled);
        await page.click('#pause');
        expect(await page.textContent('#pause')).toBe('Pause');
        await page.waitForFunction(() => ['done', 'failed'].includes((window as unknown as { playground: { status: string } }).playground.status), null, {
          timeout: 240_000,
        });
        const state = await page.evaluate(
          () => (window as unknown as { playground: { status: string; error: string; steps: unknown[]; tensors: number[] } }).playground,
        );
        expect(state.error).toBe('');
        expect(state.status).toBe('done');
        expect(state.steps).toHaveLength(23); // 6,000 images / 256
        // no tensor leaks from step to step (after the first, which makes the optimizer's slots)
        expect(state.tensors).toHaveLength(23);
        expect(new Set(state.tensors.slice(1)).size).toBe(1);
        const shown = async (id: string) => Number((await page.textContent(id))!.replace('%', ''));
        const knn = await shown('#knn');
        const random = await shown('#random-knn');
        expect(random).toBeGreaterThan(10);
        expect(knn).toBeGreaterThan(random);
        expect(errors).toEqual([]);
        // the epoch's UMAP of 1,000 test images is drawn, in several class colours
        const drawn = await page.evaluate(() => {
          const c = document.getElementById('embedding-chart') as HTMLCanvasElement;
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          const colours = new Set<string>();
          for (let i = 0; i < d.length; i += 4) if (d[i + 3] === 255) colours.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
          return {
            epoch: (window as unknown as { playground: { embeddings: number } }).playground.embeddings,
            caption: document.getElementById('embedding-caption')!.textContent,
            colours: colours.size,
          };
        });
        expect(drawn.epoch).toBe(1);
        expect(drawn.caption).toBe('UMAP of h for 1000 test images after epoch 1, coloured by class');
        expect(drawn.colours).toBeGreaterThanOrEqual(10);

        // the checkpoint the page downloads evaluates in Node (selfsup eval --checkpoint) to the kNN the page showed
        const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
        expect(download.suggestedFilename()).toBe('simclr-step23.tar');
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-pg-')), download.suggestedFilename());
        await download.saveAs(file);
        const r = await evaluateCheckpoint(file, { sets: ['eval.final=[{"type":"knn"}]'] });
        expect(r.steps).toBe(23);
        expect(Math.abs(100 * r.eval.knn_top1 - knn)).toBeLessThanOrEqual(0.1);

        // the reverse: a checkpoint trained in Node, as a tar of its two files, loaded into the page, shows Node's kNN
        const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-pg-run-'));
        await runExperiment('simclr', { sets: ['train.maxSteps=3', 'eval.final=[{"type":"knn"}]', 'eval.baseline=false'], outDir: runDir });
        const nodeKnn = (await evaluateCheckpoint(runDir, { sets: ['eval.final=[{"type":"knn"}]'] })).eval.knn_top1;
        const weights = readCheckpoint(runDir).meta.weights;
        const tar = packTar(['checkpoint.json', weights].map((name) => ({ name, data: fs.readFileSync(path.join(runDir, name)) })));
        await page.click('#reset');
        await page.setInputFiles('#load', { name: 'node-run.tar', mimeType: 'application/x-tar', buffer: Buffer.from(tar) });
        await page.waitForFunction(() => ['done', 'failed'].includes((window as unknown as { playground: { status: string } }).playground.status), null, {
          timeout: 120_000,
        });
        expect(await page.textContent('#status')).toContain('done: 3 steps');
        expect(Math.abs(100 * nodeKnn - (await shown('#knn')))).toBeLessThanOrEqual(0.1);
        expect(JSON.parse(await page.inputValue('#config'))).toMatchObject({ name: 'simclr', train: { maxSteps: 3 } });
        // DINO's picture in the tab: where the cls token of a (2-block) ViT looks, per head, after one short epoch
        await page.click('#reset');
        await page.selectOption('#preset', 'dino');
        const dino = JSON.parse(await page.inputValue('#config'));
        await page.fill(
          '#config',
          JSON.stringify(
            {
              ...dino,
              data: { ...dino.data, trainLimit: 64, testLimit: 200 },
              encoder: { ...dino.encoder, depth: 2 },
              train: { ...dino.train, epochs: 1, batchSize: 32 },
            },
            null,
            2,
          ),
        );
        await page.click('#start');
        await page.waitForFunction(() => ['done', 'failed'].includes((window as unknown as { playground: { status: string } }).playground.status), null, {
          timeout: 120_000,
        });
        expect(await page.textContent('#status')).toContain('done: 2 steps');
        const attention = await page.evaluate(() => {
          const figs = Array.from(document.querySelectorAll('#pictures figure'));
          const fig = figs.find((f) => f.id.endsWith('-attention'))!;
          const c = fig.querySelector('canvas')!;
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          // each head's map (columns 1..3 of each row; 84 px cells, 2 px gaps) is min-max scaled: it holds 0 and 255
          const spans: Array<[number, number]> = [];
          for (let row = 0; row < 8; row++)
            for (let col = 1; col < 4; col++) {
              let lo = 255;
              let hi = 0;
              for (let y = 0; y < 84; y++)
                for (let x = 0; x < 84; x++) {
                  const v = d[((2 + row * 86 + y) * c.width + 2 + col * 86 + x) * 4];
                  lo = Math.min(lo, v);
                  hi = Math.max(hi, v);
                }
              spans.push([lo, hi]);
            }
          return { ids: figs.map((f) => f.id), caption: fig.querySelector('figcaption')!.textContent, width: c.width, height: c.height, spans };
        });
        expect(attention.ids).toHaveLength(1);
        expect(attention.caption).toMatch(/, epoch 1: each image, then where the last block's cls token looks, one map per head$/);
        // 8 rows (images) of 1 + 3 heads, 28 px x 3 + 2 px gaps
        expect([attention.width, attention.height]).toEqual([4 * 86 + 2, 8 * 86 + 2]);
        expect(attention.spans).toHaveLength(24);
        for (const span of attention.spans) expect(span).toEqual([0, 255]);
        // every request went to the local server (or to the page's own blobs)
        const origin = new URL(pg.url).origin;
        expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    300_000,
  );
});
