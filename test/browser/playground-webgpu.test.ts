import { afterAll, beforeAll, describe, expect } from 'vitest';
import { startPlayground, type Playground } from '../../cli/playground.js';
import { browserTest, launchChromium } from '../browser.js';

interface Shown {
  status: string;
  error: string;
  backend: string;
  gpu: string;
  steps: Array<[number, number]>;
}

describe('selfsup playground on WebGPU', () => {
  let pg: Playground;
  beforeAll(async () => {
    pg = await startPlayground({ port: 0 });
  });
  afterAll(() => pg?.close());

  browserTest('the playground on WebGPU in Chromium')(
    'auto keeps wasm and the page says what WebGPU can do; "backend": "webgpu" is refused with the reason where tensors read back as zeros (SwiftShader), else trains to the losses wasm gives',
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

        // two steps of SimCLR on 64 images from the same seed
        const base = JSON.parse(await page.inputValue('#config'));
        const run = async (backend: string) => {
          await page.fill(
            '#config',
            JSON.stringify(
              { ...base, backend, data: { ...base.data, trainLimit: 64, testLimit: 200 }, train: { ...base.train, epochs: 1, batchSize: 32 } },
              null,
              2,
            ),
          );
          await page.click('#start');
          await page.waitForFunction(() => ['done', 'failed'].includes((window as unknown as { playground: Shown }).playground.status), null, {
            timeout: 240_000,
          });
          return shown();
        };
        const gpu = await run('webgpu');
        if (/swiftshader/.test(gpuLine)) {
          // headless Chromium without a GPU: SwiftShader's adapter, whose synchronous reads give zeros
          expect(gpuLine).toMatch(
            /^WebGPU: not used \(google \/ swiftshader, a software fallback adapter; WebGPU cannot train here: the sum of 4096 halves read back synchronously as 0, not 2048 /,
          );
          expect(gpu.status).toBe('failed');
          expect(gpu.error).toMatch(
            /^backend 'webgpu' is not available here: webgpu: .*the sum of 4096 halves read back synchronously as 0, not 2048 .*training on it would be silently wrong/,
          );
          expect(gpu.steps).toEqual([]);
          expect(gpu.backend).toMatch(/^wasm \(/);
          expect(errors).toEqual([]);
          return;
        }
        // a browser with a working WebGPU: it trains, and to wasm's losses
        expect(gpuLine).toMatch(/^WebGPU: .+ \("backend": "webgpu" in the config trains on it\)$/);
        expect(gpu.error).toBe('');
        expect(gpu.backend).toMatch(/^webgpu \(.+; selfsup kernels: /);
        await page.click('#reset');
        await page.waitForFunction(() => (window as unknown as { playground: Shown }).playground.backend.startsWith('wasm'), null, { timeout: 60_000 });
        const cpu = await run('wasm');
        expect(cpu.error).toBe('');
        expect(gpu.steps).toHaveLength(2);
        expect(cpu.steps).toHaveLength(2);
        for (let i = 0; i < 2; i++) expect(Math.abs(gpu.steps[i]![1] - cpu.steps[i]![1])).toBeLessThan(2e-3);
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    600_000,
  );
});
