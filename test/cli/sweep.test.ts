import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../cli/api.js';
import Database from 'better-sqlite3';
import { doneCount, readStore } from '../sweep-store.js';
import { isAlive } from '../../core/util/lock.js';

// The sweep runner as users run it: the built bin, worker processes and all (npm test builds first).
const BIN = path.resolve('dist/cli/main.js');
const SPEC = path.resolve('test/fixtures/sweep/heads.json');
const selfsup = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-sweep-'));

/**
 * Start the runner in its own process group and SIGKILL the whole group (runner and workers): after
 * `ms`, or, with `whenDone`, `ms` after the store shows that many trials done (a kill mid-sweep
 * whatever the machine's speed).
 */
function runAndKill(spec: string, dir: string, ms: number, whenDone?: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'sweep', spec, '--workers', '2', '--out', dir], { detached: true, stdio: 'ignore' });
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already finished
      }
    };
    let timer = whenDone === undefined ? setTimeout(kill, ms) : undefined;
    const poll =
      whenDone === undefined
        ? undefined
        : setInterval(() => {
            if (timer === undefined && doneCount(dir) >= whenDone) timer = setTimeout(kill, ms);
          }, 50);
    child.on('exit', () => {
      clearTimeout(timer);
      clearInterval(poll);
      // the workers are in the same group: make sure none survives the runner
      kill();
      resolve();
    });
  });
}

describe('selfsup sweep', () => {
  it('an invalid combination is reported with its trials and config path, and nothing runs', () => {
    const dir = tmp();
    const spec = path.join(dir, 'bad.json');
    fs.writeFileSync(
      spec,
      JSON.stringify({ extends: path.resolve('test/fixtures/sweep/tiny-simclr.json'), grid: { 'head.type': ['identity', 'mlp'], 'head.hiddenDim': [8, 16] } }),
    );
    const r = selfsup('sweep', spec, '--out', path.join(dir, 'out'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/invalid config in sweep bad \(nothing was run\)/);
    expect(r.err).toMatch(
      /trials 0 \[head.type=identity head.hiddenDim=8 seed=0\], 1 \[head.type=identity head.hiddenDim=16 seed=0\]: \/head\/hiddenDim: unknown key 'hiddenDim'/,
    );
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
    // an axis value that changes nothing makes two trials one config
    fs.writeFileSync(
      spec,
      JSON.stringify({ extends: path.resolve('test/fixtures/sweep/tiny-simclr.json'), grid: { 'loss.temperature': [0.5, 0.5], 'train.epochs': [2, 2.0] } }),
    );
    expect(selfsup('sweep', spec, '--dry-run').err).toMatch(/trial 1 \[.*\] resolves to the same config as trial 0/);
  });

  it('dry run lists the trials with their config hashes; schema --sweep prints the spec schema', () => {
    const r = selfsup('sweep', SPEC, '--dry-run', '--json');
    expect(r.code, r.err).toBe(0);
    const plan = JSON.parse(r.out);
    expect(plan.trials).toHaveLength(6);
    expect(new Set(plan.trials.map((t: { hash: string }) => t.hash)).size).toBe(6);
    expect(plan.trials[5]).toMatchObject({ index: 5, label: 'head.type=mlp seed=1', seed: 1 });
    const schema = JSON.parse(selfsup('schema', '--sweep').out);
    expect(schema.$id).toBe('urn:selfsup:schema:sweep');
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['extends', 'grid', 'zip', 'random', 'seeds', 'metrics']));
  });

  it(`killed (SIGKILL to runner and workers) at random moments and rerun: every trial ends exactly once, results equal to an uninterrupted sweep`, async () => {
    // the heads fixture; a longer trial of it: SELFSUP_SWEEP_KILLS=30 SELFSUP_SWEEP_SEEDS=8 npx vitest run test/cli/sweep.test.ts
    const kills = Number(process.env.SELFSUP_SWEEP_KILLS ?? 5);
    const seeds = Number(process.env.SELFSUP_SWEEP_SEEDS ?? 2);
    const n = 3 * seeds;
    const spec = path.join(tmp(), 'kill.json');
    fs.writeFileSync(
      spec,
      JSON.stringify({
        extends: path.resolve('test/fixtures/sweep/tiny-simclr.json'),
        grid: { 'head.type': ['identity', 'linear', 'mlp'] },
        seeds: [...Array(seeds).keys()],
        metrics: ['knn_top1', 'knn_z_top1'],
      }),
    );
    const clean = tmp();
    const started = performance.now();
    const a = selfsup('sweep', spec, '--workers', '2', '--out', clean, '--json');
    // the kill moments are fractions of this machine's own sweep time, not fixed delays, so a loaded machine moves them with it
    const sweepMs = performance.now() - started;
    expect(a.code, a.err).toBe(0);
    expect(JSON.parse(a.out.trim().split('\n').pop()!)).toMatchObject({ total: n, done: n, failed: 0, skipped: 0 });
    const reference = readStore(clean);
    expect(reference.trials.every((t) => t.status === 'done' && t.attempts === 1)).toBe(true);
    // 3 heads x 2 seeds, each: final 2 kNN metrics, loss and the collapse monitor (z_std, z_std_ref),
    // and per epoch loss, step and z_std (+ kNN monitor after epoch 1)
    expect(reference.metrics.length).toBe(n * (5 + 3 + 4));

    const dir = tmp();
    // SIGKILL to the runner alone: its workers notice and stop within a step, they do not train on as orphans
    const child = spawn(process.execPath, [BIN, 'sweep', spec, '--workers', '2', '--out', dir], { stdio: 'ignore' });
    let workers: number[] = [];
    for (let i = 0; i < 100 && workers.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      workers = spawnSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], { encoding: 'utf8' })
        .stdout.split('\n')
        .map(Number)
        .filter((n) => n > 0);
    }
    expect(workers).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGKILL');
    for (let i = 0; i < 50 && workers.some(isAlive); i++) await new Promise((r) => setTimeout(r, 100));
    expect(workers.filter(isAlive)).toEqual([]);

    const rng = Rng.fromSeed(11, 'kills');
    const doneAfterKill: number[] = [];
    const delays: string[] = [];
    for (let k = 0; k < kills; k++) {
      // alternately: at a random moment from the start (start-up, planning, first trials), and a random
      // moment after one more trial is done than before (mid-sweep, trials done and running)
      const ms = Math.round(sweepMs * (k % 2 === 0 ? rng.uniform(0.04, 0.45) : rng.uniform(0, 0.2)));
      const before = doneCount(dir);
      const whenDone = k % 2 === 1 && before < n - 1 ? before + 1 : undefined;
      delays.push(whenDone === undefined ? `${ms}ms` : `${whenDone} done+${ms}ms`);
      await runAndKill(spec, dir, ms, whenDone);
      if (!fs.existsSync(path.join(dir, 'sweep.db'))) continue;
      // after any kill, a trial is either done with all its metrics, or has none
      const s = readStore(dir);
      doneAfterKill.push(s.trials.filter((t) => t.status === 'done').length);
      for (const t of s.trials) {
        const n = s.metrics.filter((m) => m.hash === t.hash).length;
        expect(n, `trial ${t.hash} (${t.status})`).toBe(t.status === 'done' ? 12 : 0);
      }
    }
    const b = selfsup('sweep', spec, '--workers', '2', '--out', dir, '--json');
    expect(b.code, b.err).toBe(0);
    const summary = JSON.parse(b.out.trim().split('\n').pop()!);
    const resumed = readStore(dir);
    expect(resumed.trials.map((t) => [t.hash, t.status])).toEqual(reference.trials.map((t) => [t.hash, 'done']));
    expect(summary.done + summary.skipped).toBe(n);
    // the kills did land mid-sweep: some trial was interrupted while running and run again
    expect(
      doneAfterKill.some((d) => d > 0 && d < n),
      `done after each kill: ${doneAfterKill}`,
    ).toBe(true);
    expect(
      resumed.trials.some((t) => t.attempts > 1),
      `attempts: ${resumed.trials.map((t) => t.attempts)}`,
    ).toBe(true);
    // identical results: same metrics rows with the same values (cpu backend, fixed seeds)
    expect(resumed.metrics).toEqual(reference.metrics);
    // a third run finds nothing to do
    const c = JSON.parse(selfsup('sweep', spec, '--out', dir, '--json').out.trim().split('\n').pop()!);
    expect(c).toMatchObject({ total: n, done: 0, skipped: n });
    if (process.env.SELFSUP_SWEEP_KILLS)
      console.log(
        JSON.stringify({
          trials: n,
          kills,
          sweepMs: Math.round(sweepMs),
          delays,
          doneAfterKill,
          attempts: resumed.trials.map((t) => t.attempts),
          metricRows: resumed.metrics.length,
        }),
      );
  });

  it('the shipped sweeps (by name) plan into valid trials: projection head, batch size, temperature, MoCo queue size, methods', () => {
    const counts: Record<string, number> = { 'projection-head': 9, 'batch-size': 4, temperature: 5, 'moco-queue-size': 3, methods: 16 };
    for (const [name, n] of Object.entries(counts)) {
      const r = selfsup('sweep', name, '--dry-run', '--json');
      expect(r.code, `${name}: ${r.err}`).toBe(0);
      const plan = JSON.parse(r.out);
      expect(plan.name).toBe(name);
      expect(plan.trials).toHaveLength(n);
    }
    const presets = JSON.parse(selfsup('presets', '--json').out) as Array<{ name: string; kind: string }>;
    expect(
      presets
        .filter((p) => p.kind === 'sweep')
        .map((p) => p.name)
        .sort(),
    ).toEqual(Object.keys(counts).sort());
  });

  it('one runner per sweep directory: a live lock is refused, a stale one taken over', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'sweep.lock'), String(process.pid));
    const r = selfsup('sweep', SPEC, '--out', dir);
    expect(r.code).toBe(5); // the environment: another process holds the directory
    expect(r.err).toContain(`another sweep runner (pid ${process.pid}) is using ${dir}`);
    // a pid that cannot be alive (above the kernel's pid_max): the lock is stale
    fs.writeFileSync(path.join(dir, 'sweep.lock'), '99999999');
    const spec = path.join(dir, 'one.json');
    fs.writeFileSync(spec, JSON.stringify({ extends: path.resolve('test/fixtures/sweep/tiny-simclr.json'), metrics: ['knn_top1'] }));
    const ok = selfsup('sweep', spec, '--out', dir, '--json');
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(ok.out.trim().split('\n').pop()!)).toMatchObject({ total: 1, done: 1 });
    expect(fs.existsSync(path.join(dir, 'sweep.lock'))).toBe(false);
  });

  it('a failing trial is recorded with its error, the others finish, and the sweep exits 3 with a summary line', () => {
    const dir = tmp();
    const spec = path.join(dir, 'fail.json');
    // a data set whose images do not exist fails when the trial loads it, not at validation
    fs.writeFileSync(spec, JSON.stringify({ extends: path.resolve('test/fixtures/sweep/tiny-simclr.json'), grid: { 'data.train': [64, 2] } }));
    const r = selfsup('sweep', spec, '--out', path.join(dir, 'out'), '--json');
    expect(r.code, r.err).toBe(3);
    expect(r.err).toMatch(/1 of 2 trials failed \(their errors are in .*report\.md and each trial's train\.log\); rerun with --retry-failed/);
    const s = JSON.parse(r.out.trim().split('\n').pop()!);
    expect(s).toMatchObject({ total: 2, done: 1, failed: 1 });
    const db = new Database(path.join(dir, 'out', 'sweep.db'), { readonly: true });
    const failed = db.prepare("SELECT label, error FROM trials WHERE status = 'failed'").all() as Array<{ label: string; error: string }>;
    db.close();
    expect(failed).toHaveLength(1);
    expect(failed[0].label).toBe('data.train=2 seed=0');
    expect(failed[0].error.length).toBeGreaterThan(10);
  });
});
