/**
 * Kill matrix: one training run killed again and again at random moments (SIGKILL, SIGINT and
 * SIGTERM in turn), resumed with --resume after each, until it completes; then its epoch records
 * are compared with an uninterrupted run's (cpu backend: they must be equal to the last bit).
 *
 *   node dist/bench/kill-matrix.js [--kills 30] [--seed 0] [--json]
 *
 * Prints a table of the kills (signal, delay, exit code, step of the checkpoint after it) and the
 * verdict: runs lost (a kill after which the run could not be resumed) and whether the records match.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Rng, markdownTable } from '../cli/api.js';
import { benchArgs, log } from './common.js';

const a = benchArgs({
  kills: { type: 'string', default: '30' },
  seed: { type: 'string', default: '0' },
  json: { type: 'boolean', default: false },
});
const BIN = path.resolve('dist/cli/main.js');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-kill-matrix-'));
const config = {
  name: 'kill-matrix',
  seed: 0,
  backend: 'cpu',
  data: { type: 'synthetic', train: 128, test: 32, size: 12, classes: 4 },
  encoder: { type: 'small-cnn', widths: [4, 8] },
  augmenter: { type: 'multi-view', views: 2, pipeline: [{ type: 'random-resized-crop', scale: [0.5, 1] }, { type: 'horizontal-flip' }] },
  head: { type: 'mlp', layers: 2, hiddenDim: 8, outDim: 8 },
  target: { type: 'momentum', momentum: 0.9 },
  negatives: { type: 'momentum-queue', size: 64 },
  loss: { type: 'info-nce', temperature: 0.2 },
  optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 1e-4 },
  schedule: { type: 'cosine', warmupEpochs: 1 },
  train: { epochs: 150, batchSize: 16, checkpointEvery: 1 },
  eval: { every: 0, monitor: [], final: [] },
  callbacks: [{ type: 'progress', every: 1 }],
};
const cfg = path.join(work, 'config.json');
fs.writeFileSync(cfg, JSON.stringify(config));
const epochRecords = (dir: string) =>
  fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.type === 'epoch')
    .map(({ seconds: _s, ...r }) => r);

log('uninterrupted reference run ...');
const reference = path.join(work, 'reference');
const ref = spawnSync(process.execPath, [BIN, 'train', cfg, '--out', reference], { encoding: 'utf8' });
if (ref.status !== 0) throw new Error(`reference run failed: ${ref.stderr}`);

/** Start (or resume) the run; after `delayMs` of training output, send `signal`. Resolves with the exit code. */
function attempt(dir: string, resume: boolean, signal: NodeJS.Signals, delayMs: number): Promise<{ code: number | null; signaled: boolean }> {
  return new Promise((resolve) => {
    // a start over after a kill that left no checkpoint: --force over what the killed start wrote
    const args = resume ? [BIN, 'train', '--resume', dir] : [BIN, 'train', cfg, '--out', dir, '--force'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let timer: NodeJS.Timeout | undefined;
    let signaled = false;
    child.stderr.on('data', (d) => {
      // start the clock at the first step, so the kill lands in training (not in start-up)
      if (!timer && /step \d+\//.test(String(d)))
        timer = setTimeout(() => {
          signaled = true;
          child.kill(signal);
        }, delayMs);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, signaled });
    });
  });
}

const rng = Rng.fromSeed(Number(a.seed), 'kill-matrix');
const signals: NodeJS.Signals[] = ['SIGKILL', 'SIGINT', 'SIGTERM'];
const dir = path.join(work, 'run');
const rows: Array<Array<string | number>> = [];
let lost = 0;
let started = false;
let kills = 0;
let completed = false;
while (!completed) {
  const signal = signals[kills % 3];
  const delay = Math.round(rng.uniform(0, 2500));
  const hasCheckpoint = fs.existsSync(path.join(dir, 'checkpoint.json'));
  const r = await attempt(dir, started && hasCheckpoint, kills < Number(a.kills) ? signal : 'SIGKILL', kills < Number(a.kills) ? delay : 1e9);
  started = true;
  const step = fs.existsSync(path.join(dir, 'checkpoint.json')) ? JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8')).step : '-';
  if (!r.signaled) {
    if (r.code !== 0) {
      lost++;
      log(`run ended with exit ${r.code} without a signal`);
      break;
    }
    completed = true;
    rows.push(['(completes)', '-', r.code ?? '-', step]);
    break;
  }
  kills++;
  const expected = signal === 'SIGKILL' ? null : signal === 'SIGINT' ? 130 : 143;
  if (r.code !== expected) log(`kill ${kills}: ${signal} gave exit ${r.code} (expected ${expected})`);
  rows.push([`${kills}: ${signal}`, `${delay} ms`, r.code ?? 'killed', step]);
  log(`kill ${kills}/${a.kills}: ${signal} after ${delay} ms of training -> exit ${r.code ?? 'killed'}, checkpoint at step ${step}`);
}
const same = completed && JSON.stringify(epochRecords(dir)) === JSON.stringify(epochRecords(reference));
process.stdout.write(markdownTable(['kill', 'after', 'exit', 'checkpoint step'], rows) + '\n');
process.stdout.write(`\nkills: ${kills}, runs lost: ${lost}, completed: ${completed}, epoch records equal to the uninterrupted run's: ${same}\n`);
if (a.json) process.stdout.write(JSON.stringify({ kills, lost, completed, same }) + '\n');
fs.rmSync(work, { recursive: true, force: true });
if (!same || lost > 0) process.exit(1);
