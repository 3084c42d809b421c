/**
 * The SimCLR step in headless Chromium (the playground) beside the same step in Node on the wasm
 * backend: the simclr preset (small CNN, batch 256 = 512 views, embedded Fashion-MNIST), the same
 * threads (SELFSUP_WASM_THREADS in Node; the browser's cores in the tab), median after warm-up, two
 * ways: `trainStep` alone, beside `selfsup bench --cases simclr-smallcnn` (which times that), and the
 * whole step of the training loop (the batch taken from the prefetch queue too) beside Node's
 * trainer. With --screenshots DIR it also saves the page after two epochs of SimCLR, one of
 * inpainting, and one of DINO (ViT-tiny) on 640 images (`--rounds 0`: the screenshots only). `--rounds N` repeats the three measurements, alternating which side goes first, so
 * that a machine whose speed drifts from minute to minute (a VM) skews both sides alike; the ratios
 * are per round, and their median is the result.
 *
 *   node dist/bench/browser-step.js [--rounds 3] [--steps 23] [--warmup 3] [--threads 2] [--screenshots DIR] [--json]
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { createRegistry, markdownTable, median, resolveExperiment, selectBackend, train } from '../cli/api.js';
import { startPlayground } from '../cli/playground.js';
import { benchArgs, log } from './common.js';

const a = benchArgs({
  steps: { type: 'string', default: '23' },
  warmup: { type: 'string', default: '3' },
  threads: { type: 'string', default: '2' },
  rounds: { type: 'string', default: '3' },
  screenshots: { type: 'string' },
  json: { type: 'boolean', default: false },
});
const steps = Number(a.steps);
const warmup = Number(a.warmup);
const threads = Number(a.threads);
const rounds = Number(a.rounds);
const timed = (ms: number[]) => median(ms.slice(warmup));
const gaps = (at: number[]) => at.slice(1).map((t, i) => t - at[i]);
const sets = [`train.maxSteps=${steps}`, 'train.checkpointEvery=0', 'eval.every=0', 'eval.final=[]', 'eval.baseline=false', 'callbacks=[]'];
process.env.SELFSUP_WASM_THREADS = String(threads);

/** `selfsup bench`'s simclr-smallcnn case (the simclr preset, trainStep alone) in its own process: its median, ms. */
function benchCase(): number {
  const args = ['bench', '--cases', 'simclr-smallcnn', '--backend', 'wasm', '--steps', String(steps - warmup), '--warmup', String(warmup), '--json'];
  const out = execFileSync(process.execPath, [path.resolve('dist/cli/main.js'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const ms = (JSON.parse(out.trim().split('\n').pop()!) as { results: Array<{ medianMs: number }> }).results[0].medianMs;
  log(`selfsup bench simclr-smallcnn: ${ms} ms`);
  return ms;
}

// Node: the simclr preset on wasm with `threads` threads, through the trainer: when each step ended
const registry = createRegistry();
const backend = await selectBackend(registry, 'wasm', log);
log(`node: ${backend.name} (${backend.details})`);
const { config } = await resolveExperiment('simclr', { registry, sets });
async function nodeLoop(): Promise<number[]> {
  const at: number[] = [];
  await train(config, { registry, backendReady: backend, log, callbacks: [{ onStepEnd: () => void at.push(performance.now()) }] });
  log(`node loop: ${median(gaps(at).slice(warmup)).toFixed(0)} ms per step`);
  return at;
}

// the browser: the playground's page, the same config
const pg = await startPlayground({ port: 0 });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
type State = { status: string; error: string; stepMs: number[]; trainMs: number[]; stepAt: number[]; backend: string };
const state = (page: Page) => page.evaluate(() => (window as unknown as { playground: State }).playground);
async function runInPage(preset: string, edit: (c: Record<string, any>) => void, shot?: string): Promise<State> {
  const page = await browser.newPage({ viewport: { width: 1800, height: 1400 } });
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
const pageRun = () =>
  runInPage('simclr', (c) => {
    c.train.maxSteps = steps;
    c.eval.baseline = false;
  });

interface Round {
  benchMs: number;
  browserTrainStepMs: number;
  nodeWallMs: number;
  browserWallMs: number;
}
const results: Round[] = [];
let browserBackend = '';
for (let r = 0; r < rounds; r++) {
  log(`\n== round ${r + 1} of ${rounds} (${r % 2 ? 'browser' : 'Node'} first) ==`);
  let benchMs = 0;
  let nodeAt: number[] = [];
  let inPage: State | undefined;
  const node = async () => {
    benchMs = benchCase();
    nodeAt = await nodeLoop();
  };
  const tab = async () => {
    inPage = await pageRun();
  };
  if (r % 2) await tab().then(node);
  else await node().then(tab);
  browserBackend = inPage!.backend;
  results.push({
    benchMs,
    browserTrainStepMs: timed(inPage!.trainMs),
    nodeWallMs: median(gaps(nodeAt).slice(warmup)),
    browserWallMs: median(gaps(inPage!.stepAt).slice(warmup)),
  });
}
if (a.screenshots) {
  await runInPage('simclr', (c) => (c.train.epochs = 2), path.join(a.screenshots, 'playground-simclr-2-epochs.png'));
  await runInPage('inpainting', (c) => (c.train.epochs = 1), path.join(a.screenshots, 'playground-inpainting-1-epoch.png'));
  const dino = (c: Record<string, any>) => {
    c.train.epochs = 1;
    c.data = { ...c.data, trainLimit: 640 };
  };
  await runInPage('dino', dino, path.join(a.screenshots, 'playground-dino-1-epoch-640-images.png'));
  log(`screenshots in ${a.screenshots}`);
}
await browser.close();
await pg.close();
if (rounds === 0) process.exit(0);

const trainStepRatio = median(results.map((x) => x.browserTrainStepMs / x.benchMs));
const wallRatio = median(results.map((x) => x.browserWallMs / x.nodeWallMs));
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const result = {
  cpu,
  threads,
  batch: config.train.batchSize,
  steps,
  warmup,
  rounds: results,
  trainStepRatio,
  wallRatio,
  nodeBackend: backend.details,
  browserBackend,
};
const ms = (v: number) => `${v.toFixed(0)} ms`;
if (a.json) process.stdout.write(JSON.stringify(result) + '\n');
else
  process.stdout.write(
    `\nSimCLR step, simclr preset (small CNN, batch ${config.train.batchSize}), ${threads} threads, median of steps ${warmup + 1}-${steps}, ${cpu}\n` +
      "trainStep: `selfsup bench --cases simclr-smallcnn` in Node beside trainStep timed in the tab; loop: wall time from one step's end to the next (next batch, yields, callbacks)\n\n" +
      markdownTable(
        ['round', 'first', 'trainStep, Node', 'Chromium', 'ratio', 'loop, Node', 'Chromium', 'ratio'],
        [
          ...results.map((x, i) => [
            i + 1,
            i % 2 ? 'browser' : 'Node',
            ms(x.benchMs),
            ms(x.browserTrainStepMs),
            `${(x.browserTrainStepMs / x.benchMs).toFixed(2)}x`,
            ms(x.nodeWallMs),
            ms(x.browserWallMs),
            `${(x.browserWallMs / x.nodeWallMs).toFixed(2)}x`,
          ]),
          ['median', '', '', '', `${trainStepRatio.toFixed(2)}x`, '', '', `${wallRatio.toFixed(2)}x`],
        ],
      ) +
      `\nNode: ${backend.details}\nChromium: ${browserBackend}\n`,
  );
process.exit(0);
