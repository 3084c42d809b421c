/**
 * Streaming image-folder (issue 15): the SimCLR preset (small CNN, 32 px RGB) on the CIFAR-10 JPEG
 * folder (`../shared/datasets/cifar10-jpeg.tar.gz`, extracted once into .bench/), `--steps` steps with
 * `cache: "memory"` (everything decoded at load) and with `cache: "none"` (decoded as read, with
 * `--workers` threads and `--prefetch` batches ahead) and with `cache: "disk"` (decoded once into a
 * pixel file under .bench/pixel-cache, emptied first; then a second run that reuses it), each in its
 * own child process: peak RSS
 * (`process.resourceUsage().maxRSS`), load seconds and training views/s. Then a damaged copy of a
 * small folder (`--bad-per-class` images per class, 10 corrupt files: truncated JPEGs and text
 * files named .jpg) trained with `onBadImage: "skip"` and `cache: "none"`: the count skipped at load,
 * the ones replaced at read time, and that training completed.
 *
 *   node dist/bench/stream-folder.js [--steps 100] [--batch 256] [--per-class N] [--workers 4] [--prefetch 4] [--backend B] [--cases memory,none,disk,bad] [--json]
 *
 * `--per-class` limits the folder (all 5,000 per class by default: the full 50,000 images).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { markdownTable, runExperiment } from '../cli/api.js';
import { benchArgs, ensureCifar, log, refuse } from './common.js';

const a = benchArgs({
  steps: { type: 'string', default: '100' },
  batch: { type: 'string', default: '256' },
  'per-class': { type: 'string' },
  'bad-per-class': { type: 'string', default: '50' },
  workers: { type: 'string' },
  prefetch: { type: 'string', default: '4' },
  backend: { type: 'string' },
  data: { type: 'string' },
  child: { type: 'string' },
  cases: { type: 'string', default: 'memory,none,disk,bad' },
  json: { type: 'boolean', default: false },
});

interface Case {
  name: string;
  root: string;
  cache: 'memory' | 'none' | 'disk';
  perClass?: number;
  onBadImage?: 'error' | 'skip';
}

interface Measured {
  name: string;
  cache: string;
  images: number;
  steps: number;
  loadSeconds: number;
  trainSeconds: number;
  viewsPerSecond: number;
  peakRssMiB: number;
  skipped: number;
  replaced: number;
  completed: boolean;
  error?: string;
}

const steps = Number(a.steps);
const PIXEL_CACHE = path.resolve('.bench/pixel-cache');
const batch = Number(a.batch);

/** One case, in this (child) process: a JSON line on stdout. */
async function child(c: Case): Promise<void> {
  const logs: string[] = [];
  const t0 = performance.now();
  let loadSeconds = 0;
  const out: Measured = {
    name: c.name,
    cache: c.cache,
    images: 0,
    steps: 0,
    loadSeconds: 0,
    trainSeconds: 0,
    viewsPerSecond: 0,
    peakRssMiB: 0,
    skipped: 0,
    replaced: 0,
    completed: false,
  };
  try {
    const r = await runExperiment(
      {
        extends: 'simclr',
        name: `stream-folder-${c.name}`,
        data: {
          type: 'image-folder',
          root: c.root,
          size: 32,
          channels: 3,
          cache: c.cache,
          ...(c.cache === 'disk' ? { cacheDir: PIXEL_CACHE } : {}),
          onBadImage: c.onBadImage ?? 'error',
          test: '',
          ...(c.perClass ? { limit: c.perClass } : {}),
          ...(a.workers !== undefined ? { workers: Number(a.workers) } : {}),
        },
        encoder: { type: 'small-cnn', widths: [32, 64, 128] },
        train: { epochs: 1000, batchSize: batch, maxSteps: steps, checkpointEvery: 0, prefetch: Number(a.prefetch) },
        eval: { every: 0, monitor: [], final: [], baseline: false },
        ...(a.backend ? { backend: a.backend } : {}),
      },
      {
        log: (m) => {
          logs.push(m);
          if (m.startsWith('data:')) loadSeconds = (performance.now() - t0) / 1000;
          log(`  [${c.name}] ${m}`);
        },
      },
    );
    const source = r.parts.data.train.source as { replaced?: number; close?: () => Promise<void> } | undefined;
    Object.assign(out, {
      images: r.parts.data.train.count,
      steps: r.steps,
      loadSeconds,
      trainSeconds: r.trainSeconds,
      viewsPerSecond: (r.steps * batch * 2) / r.trainSeconds,
      replaced: source?.replaced ?? 0,
      completed: r.steps === steps,
    });
    await source?.close?.();
  } catch (e) {
    out.error = (e as Error).message;
  }
  out.skipped = Number(/skipped ([\d,]+) bad image/.exec(logs.join('\n'))?.[1]?.replace(/,/g, '') ?? 0);
  out.peakRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/** Run a case in a child process of this script (same node flags); its JSON line. */
function inChild(c: Case): Measured {
  log(`${c.name}: ${c.cache}${c.perClass ? `, ${c.perClass} per class` : ''} ...`);
  const args = [...process.execArgv, process.argv[1], '--child', JSON.stringify(c), '--steps', a.steps!, '--batch', a.batch!, '--prefetch', a.prefetch!];
  if (a.workers !== undefined) args.push('--workers', a.workers);
  if (a.backend) args.push('--backend', a.backend);
  const p = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  const line = p.stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) throw new Error(`case ${c.name} gave no result (exit ${p.status}, signal ${p.signal})`);
  return JSON.parse(line) as Measured;
}

/** A copy of the first `perClass` images of each class, with 10 corrupt files added (5 truncated JPEGs, 5 text files named .jpg). */
function damagedCopy(root: string, perClass: number): string {
  const dir = path.resolve('.bench/stream-folder-bad');
  fs.rmSync(dir, { recursive: true, force: true });
  const classes = fs.readdirSync(path.join(root, 'train')).sort();
  for (const [k, cls] of classes.entries()) {
    const src = path.join(root, 'train', cls);
    const dst = path.join(dir, 'train', cls);
    fs.mkdirSync(dst, { recursive: true });
    const names = fs.readdirSync(src).sort().slice(0, perClass);
    for (const n of names) fs.copyFileSync(path.join(src, n), path.join(dst, n));
    if (k < 5) {
      const bytes = fs.readFileSync(path.join(src, names[0]));
      fs.writeFileSync(path.join(dst, `zz-truncated-${k}.jpg`), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    } else fs.writeFileSync(path.join(dst, `zz-text-${k}.jpg`), 'this is not a JPEG\n');
  }
  return dir;
}

if (a.child) {
  await child(JSON.parse(a.child) as Case);
} else {
  const root = ensureCifar(a.data);
  const perClass = a['per-class'] !== undefined ? Number(a['per-class']) : undefined;
  const rows: Measured[] = [];
  const cases = new Set(a.cases!.split(','));
  const unknown = [...cases].filter((c) => !['memory', 'none', 'disk', 'bad'].includes(c));
  if (unknown.length) refuse(`--cases: unknown ${unknown.join(', ')} (memory, none, disk, bad)`);
  if (cases.has('memory')) rows.push(inChild({ name: 'memory', root, cache: 'memory', perClass }));
  if (cases.has('none')) rows.push(inChild({ name: 'none', root, cache: 'none', perClass }));
  if (cases.has('disk')) {
    fs.rmSync(PIXEL_CACHE, { recursive: true, force: true });
    rows.push(inChild({ name: 'disk (built)', root, cache: 'disk', perClass }));
    rows.push(inChild({ name: 'disk (reused)', root, cache: 'disk', perClass }));
  }
  if (cases.has('bad')) {
    const badPer = Math.max(Number(a['bad-per-class']), Math.ceil((2 * batch) / 10));
    rows.push(inChild({ name: 'bad-files-skip', root: damagedCopy(root, badPer), cache: 'none', onBadImage: 'skip' }));
  }
  if (a.json)
    process.stdout.write(`${JSON.stringify({ bench: 'stream-folder', steps, batch, prefetch: Number(a.prefetch), workers: a.workers ?? 'default', rows })}\n`);
  else
    process.stdout.write(
      `\nimage-folder, simclr small-cnn 32 px RGB, batch ${batch} (x2 views), ${steps} steps, prefetch ${a.prefetch}, workers ${a.workers ?? 'default'}\n\n` +
        markdownTable(
          ['case', 'images', 'steps', 'load s', 'views/s', 'peak RSS MiB', 'bad skipped at load', 'replaced at read', 'completed'],
          rows.map((r) => [
            r.name,
            r.images.toLocaleString('en-US'),
            String(r.steps),
            r.loadSeconds.toFixed(1),
            r.viewsPerSecond.toFixed(0),
            r.peakRssMiB.toFixed(0),
            String(r.skipped),
            String(r.replaced),
            r.error ? `no: ${r.error}` : r.completed ? 'yes' : 'no',
          ]),
        ) +
        '\n',
    );
}
