/**
 * The SimCLR step in headless Chromium (the playground) beside the same step in Node on the wasm
 * backend: the simclr preset (small CNN, batch 256 = 512 views, embedded Fashion-MNIST), the same
 * threads (SELFSUP_WASM_THREADS in Node; the browser's cores in the tab), median after warm-up, two
 * ways: `trainStep` alone, beside `selfsup bench --cases simclr-smallcnn` (which times that), and the
 * whole step of the training loop (the batch taken from the prefetch queue too) beside Node's
 * trainer. With --screenshots DIR it also saves the page after two epochs of SimCLR and one of
 * inpainting.
 *
 *   node dist/bench/browser-step.js [--steps 23] [--warmup 3] [--threads 2] [--screenshots DIR] [--json]
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { createRegistry, markdownTable, median, resolveExperiment, selectBackend, train } from '../cli/api.js';
import { startPlayground } from '../cli/playground.js';
import { log } from './common.js';

const { values: a } = parseArgs({
  options: {
    steps: { type: 'string', default: '23' },
    warmup: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    screenshots: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const steps = Number(a.steps);
const warmup = Number(a.warmup);
const threads = Number(a.threads);
const timed = (ms: number[]) => median(ms.slice(warmup));
const sets = [`train.maxSteps=${steps}`, 'train.checkpointEvery=0', 'eval.every=0', 'eval.final=[]', 'eval.baseline=false', 'callbacks=[]'];

// Node: `selfsup bench`'s simclr-smallcnn case (the simclr preset, trainStep alone), in its own process
process.env.SELFSUP_WASM_THREADS = String(threads);
const benchLine = execFileSync(
  process.execPath,
  [
    path.resolve('dist/cli/main.js'),
    'bench',
    '--cases',
    'simclr-smallcnn',
    '--backend',
    'wasm',
    '--steps',
    String(steps - warmup),
    '--warmup',
    String(warmup),
    '--json',
  ],
  {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  },
)
  .trim()
  .split('\n')
  .pop()!;
const benchMs = (JSON.parse(benchLine) as { results: Array<{ medianMs: number }> }).results[0].medianMs;
log(`selfsup bench simclr-smallcnn: ${benchMs} ms`);

// Node: the simclr preset on wasm with `threads` threads, through the trainer
const registry = createRegistry();
const backend = await selectBackend(registry, 'wasm', log);
log(`node: ${backend.name} (${backend.details})`);
const { config } = await resolveExperiment('simclr', { registry, sets });
const nodeMs: number[] = [];
const nodeAt: number[] = [];
let last = 0;
await train(config, {
  registry,
  backendReady: backend,
  log,
  callbacks: [
    {
      onStepEnd: (r) => {
        nodeMs.push((r.elapsedSeconds - last) * 1000);
        nodeAt.push(performance.now());
        last = r.elapsedSeconds;
        log(`node step ${r.step}: ${nodeMs.at(-1)!.toFixed(0)} ms`);
      },
    },
  ],
});

// the browser: the playground's page, the same config
const pg = await startPlayground({ port: 0 });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
type State = { status: string; error: string; stepMs: number[]; trainMs: number[]; stepAt: number[]; backend: string };
const state = (page: Page) => page.evaluate(() => (window as unknown as { playground: State }).playground);
async function runInPage(preset: string, edit: (c: Record<string, any>) => void, shot?: string): Promise<State> {
  const page = await browser.newPage({ viewport: { width: 1800, height: 1150 } });
  await page.goto(`${pg.url}?preset=${preset}`);
  await page.waitForFunction(() => (window as unknown as { playground: State }).playground.backend !== '', null, { timeout: 60_000 });
  const c = JSON.parse(await page.inputValue('#config'));
  edit(c);
  await page.fill('#config', JSON.stringify(c, null, 2));
  await page.click('#start');
  let seen = 0;
  for (;;) {
    const s = await state(page);
    for (; seen < s.stepMs.length; seen++) log(`browser ${preset} step ${seen + 1}: ${s.stepMs[seen].toFixed(0)} ms`);
    if (s.status === 'done' || s.status === 'failed') {
      if (s.error) throw new Error(`${preset} in the page: ${s.error}`);
      if (shot) await page.screenshot({ path: shot, fullPage: true });
      await page.close();
      return s;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
const inPage = await runInPage('simclr', (c) => {
  c.train.maxSteps = steps;
  c.eval.baseline = false;
});
if (a.screenshots) {
  await runInPage('simclr', (c) => (c.train.epochs = 2), path.join(a.screenshots, 'playground-simclr-2-epochs.png'));
  await runInPage('inpainting', (c) => (c.train.epochs = 1), path.join(a.screenshots, 'playground-inpainting-1-epoch.png'));
}
await browser.close();
await pg.close();

const tabTrain = timed(inPage.trainMs);
const gaps = (at: number[]) => at.slice(1).map((t, i) => t - at[i]);
// wall time from one step's end to the next's: everything the loop does per step (the next batch, yields, callbacks)
const nodeWall = median(gaps(nodeAt).slice(warmup));
const tabWall = median(gaps(inPage.stepAt).slice(warmup));
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const result = {
  cpu,
  threads,
  batch: config.train.batchSize,
  steps,
  warmup,
  benchMs,
  browserTrainStepMs: tabTrain,
  trainStepRatio: tabTrain / benchMs,
  nodeWallMs: nodeWall,
  browserWallMs: tabWall,
  wallRatio: tabWall / nodeWall,
  nodeBackend: backend.details,
  browserBackend: inPage.backend,
};
if (a.json) process.stdout.write(JSON.stringify(result) + '\n');
else
  process.stdout.write(
    `\nSimCLR step, simclr preset (small CNN, batch ${config.train.batchSize}), ${threads} threads, median of steps ${warmup + 1}-${steps}, ${cpu}\n\n` +
      markdownTable(
        ['what is timed', 'Node (wasm)', 'headless Chromium (playground)', 'ratio'],
        [
          [
            'trainStep alone (`selfsup bench --cases simclr-smallcnn`)',
            `${benchMs.toFixed(0)} ms`,
            `${tabTrain.toFixed(0)} ms`,
            `${(tabTrain / benchMs).toFixed(2)}x`,
          ],
          [
            'wall time per step of the training loop (end to end: next batch, yields, callbacks)',
            `${nodeWall.toFixed(0)} ms`,
            `${tabWall.toFixed(0)} ms`,
            `${(tabWall / nodeWall).toFixed(2)}x`,
          ],
        ],
      ) +
      `\nNode: ${backend.details}\nChromium: ${inPage.backend}\n`,
  );
process.exit(0);
