import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { evaluateCheckpoint } from '../../cli/api.js';
import { startPlayground, type Playground } from '../../cli/playground.js';
import { browserTest, launchChromium } from '../browser.js';

interface Shown {
  status: string;
  error: string;
  backend: string;
  gpu: string;
  steps: Array<[number, number]>;
  knn: Array<[number, number]>;
}

describe('selfsup playground on WebGPU', () => {
  let pg: Playground;
  beforeAll(async () => {
    pg = await startPlayground({ port: 0 });
  });
  afterAll(() => pg?.close());

  browserTest('the playground on WebGPU in Chromium')(
    'auto keeps wasm and the page names the adapter; "backend": "webgpu" trains (reading asynchronously: SwiftShader reads zeros synchronously) to the losses and kNN wasm gives, and its checkpoint evaluates in Node to its kNN',
    async () => {
      const browser = await launchChromium({ webgpu: true });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(pg.url);
        const shown = () => page.evaluate(() => (window as unknown as { playground: Shown }).playground);
        await page.waitForFunction(() => (window as unknown as { playground: Shown }).playground.gpu !== '', null, { timeout: 60_000 });
        expect((await shown()).backend).toMatch(/^wasm \(SIMD on, /);
        const gpuLine = (await page.textContent('#gpu'))!;
        expect(gpuLine).toMatch(/^WebGPU: .+ \("backend": "webgpu" in the config trains on it\)$/);
        // headless Chromium without a GPU: SwiftShader's adapter (whose synchronous reads would give zeros: refused, and selfsup reads asynchronously)
        if (/swiftshader/.test(gpuLine))
          expect(gpuLine).toBe('WebGPU: google / swiftshader, a software fallback adapter ("backend": "webgpu" in the config trains on it)');

        // one epoch of SimCLR (2 steps) on 64 images from the same seed, then the kNN of the epoch
        const base = JSON.parse(await page.inputValue('#config'));
        const run = async (backend: string) => {
          await page.fill(
            '#config',
            JSON.stringify(
              {
                ...base,
                backend,
                // SwiftShader runs WebGPU's kernels on the CPU, slowly: a narrow encoder keeps this to seconds
                encoder: { type: 'small-cnn', widths: [8, 16, 32] },
                data: { ...base.data, trainLimit: 64, testLimit: 100 },
                train: { ...base.train, epochs: 1, batchSize: 32 },
                eval: { ...base.eval, baseline: false },
              },
              null,
              2,
            ),
          );
          await page.click('#start');
          await page.waitForFunction(() => ['done', 'failed'].includes((window as unknown as { playground: Shown }).playground.status), null, {
            timeout: 300_000,
          });
          return shown();
        };
        const gpu = await run('webgpu');
        expect(gpu.error).toBe('');
        expect(gpu.status).toBe('done');
        expect(gpu.backend).toMatch(/^webgpu \(.+; selfsup kernels: /);
        // its checkpoint, read back from the GPU asynchronously, evaluates in Node to the kNN the page showed
        const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-pg-webgpu-')), download.suggestedFilename());
        await download.saveAs(file);
        const inNode = await evaluateCheckpoint(file, { backend: 'cpu', sets: ['eval.final=[{"type":"knn"}]'] });
        expect(inNode.steps).toBe(2);
        expect(Math.abs(inNode.eval.knn_top1 - gpu.knn[0]![1])).toBeLessThanOrEqual(0.011);
        await page.click('#reset');
        await page.waitForFunction(() => (window as unknown as { playground: Shown }).playground.backend.startsWith('wasm'), null, { timeout: 60_000 });
        const cpu = await run('wasm');
        expect(cpu.error).toBe('');
        expect(gpu.steps).toHaveLength(2);
        expect(cpu.steps).toHaveLength(2);
        // different kernels (WGSL against wasm SIMD): the same losses to float rounding, not bit for bit
        for (let i = 0; i < 2; i++) {
          expect(gpu.steps[i]![1]).toBeGreaterThan(1);
          expect(Math.abs(gpu.steps[i]![1] - cpu.steps[i]![1])).toBeLessThan(5e-3);
        }
        expect(gpu.knn).toHaveLength(1);
        expect(Math.abs(gpu.knn[0]![1] - cpu.knn[0]![1])).toBeLessThanOrEqual(0.011);
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    900_000,
  );
});
