import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asEnvironmentError, packageRoot } from '../../core/index.js';
import { SweepStore, writeReport, type PlannedTrial, type SweepPlan, type TrialOutcome } from '../../core/sweep/index.js';
import { acquireLock } from '../../core/util/lock.js';
import { makeDirs } from '../../core/util/make-dirs.js';
import type { RunTrialMessage, WorkerMessage } from './protocol.js';

export interface SweepOptions {
  /** the sweep directory: sweep.db, report.md/html, trials/<hash>/ */
  outDir: string;
  /** worker processes training trials in parallel (default 1) */
  workers?: number;
  /** also rerun trials that failed before (default: a failed trial is finished) */
  retryFailed?: boolean;
  /** receives every event (the CLI's progress display) */
  onEvent?: (e: SweepEvent) => void;
  /** the worker module (default: the built dist/cli/sweep-worker.js) */
  workerScript?: string;
}

export type SweepEvent =
  | { type: 'start'; name: string; total: number; todo: number; finished: number; workers: number }
  | { type: 'trial-start'; worker: number; trial: PlannedTrial }
  | { type: 'trial-progress'; worker: number; trial: PlannedTrial; step: number; totalSteps: number; loss: number }
  | { type: 'trial-end'; worker: number; trial: PlannedTrial; status: 'done' | 'failed'; seconds: number; error?: string; outcome?: TrialOutcome }
  | { type: 'end'; summary: SweepSummary };

export interface SweepSummary {
  name: string;
  outDir: string;
  /** trials in the sweep */
  total: number;
  /** finished before this run started (skipped) */
  skipped: number;
  /** run now: done and failed */
  done: number;
  failed: number;
  workers: number;
  /** wall-clock seconds of this run */
  seconds: number;
  /** trials finished per hour by this run */
  trialsPerHour: number;
  report: { files: string[]; markdown: string };
}

const defaultWorker = () => path.join(packageRoot(), 'dist', 'cli', 'sweep-worker.js');

/**
 * Run a planned sweep: record every trial in the store, then train the unfinished ones in `workers`
 * forked processes, committing each result as it comes. A failing trial is recorded with its error
 * and the others go on; a worker that dies is replaced. Interrupting (SIGINT/SIGTERM) puts running
 * trials back to pending; a SIGKILL leaves them `running`, and the next run treats them as pending.
 * Writes report.md and report.html at the end.
 */
export async function runSweep(plan: SweepPlan, opts: SweepOptions): Promise<SweepSummary> {
  const t0 = performance.now();
  try {
    makeDirs(opts.outDir);
  } catch (e) {
    throw asEnvironmentError(e, 'make the sweep directory', path.resolve(opts.outDir));
  }
  const unlock = acquireLock(opts.outDir);
  const store = new SweepStore(opts.outDir);
  const emit = (e: SweepEvent) => opts.onEvent?.(e);
  const workers: ChildProcess[] = [];
  const running = new Map<number, PlannedTrial>();
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted = true;
    for (const w of workers) w.kill('SIGKILL');
    for (const t of running.values()) store.release(t.hash);
    store.close();
    unlock();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const axes = [...new Set(plan.trials.flatMap((t) => Object.keys(t.axes)))];
    store.setMeta({ name: plan.name, spec: plan.spec, file: plan.file ?? null, axes, metrics: plan.spec.metrics, hashes: plan.trials.map((t) => t.hash) });
    store.plan(plan.trials);
    const unfinished = store.unfinished(
      plan.trials.map((t) => t.hash),
      opts.retryFailed,
    );
    const queue = plan.trials.filter((t) => unfinished.has(t.hash));
    const todo = queue.length;
    const nWorkers = Math.max(1, Math.min(opts.workers ?? 1, todo));
    let done = 0;
    let failed = 0;
    emit({
      type: 'start',
      name: plan.name,
      total: plan.trials.length,
      todo: queue.length,
      finished: plan.trials.length - queue.length,
      workers: todo ? nWorkers : 0,
    });

    const script = opts.workerScript ?? defaultWorker();
    // the cores are shared out: N workers on C cores get C / N threads each, native or wasm (unless set by the user)
    const threadsPerWorker =
      process.env.SELFSUP_THREADS ?? process.env.SELFSUP_WASM_THREADS ?? String(Math.max(1, Math.floor(os.availableParallelism() / nWorkers)));
    const logDir = path.join(opts.outDir, 'workers');
    fs.mkdirSync(logDir, { recursive: true });
    const spawn = (slot: number) => {
      const fd = fs.openSync(path.join(logDir, `worker-${slot}.log`), 'a');
      const w = fork(script, [], {
        stdio: ['ignore', fd, fd, 'ipc'],
        env: {
          ...process.env,
          SELFSUP_SWEEP_WORKER: String(slot),
          SELFSUP_WASM_THREADS: process.env.SELFSUP_WASM_THREADS ?? threadsPerWorker,
          SELFSUP_THREADS: threadsPerWorker,
        },
      });
      fs.closeSync(fd);
      workers[slot - 1] = w;
      return w;
    };

    /** One slot: take trials off the queue until it is empty; replace the worker if it dies. */
    const serve = async (slot: number) => {
      let w = spawn(slot);
      while (queue.length && !interrupted) {
        const trial = queue.shift()!;
        const outDir = path.join(opts.outDir, 'trials', trial.hash);
        store.markRunning(trial.hash, slot);
        running.set(slot, trial);
        emit({ type: 'trial-start', worker: slot, trial });
        const started = performance.now();
        const result = await new Promise<{ ok: true; outcome: TrialOutcome } | { ok: false; error: string; died: boolean }>((resolve) => {
          const onMessage = (m: WorkerMessage) => {
            if (m.type === 'progress' && m.hash === trial.hash)
              emit({ type: 'trial-progress', worker: slot, trial, step: m.step, totalSteps: m.totalSteps, loss: m.loss });
            else if (m.type === 'done' && m.hash === trial.hash) finish({ ok: true, outcome: m.outcome });
            else if (m.type === 'failed' && m.hash === trial.hash) finish({ ok: false, error: m.error, died: false });
          };
          const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
            finish({
              ok: false,
              error: `the worker process exited (${signal ? `signal ${signal}` : `code ${code}`}) during this trial; see ${path.join(logDir, `worker-${slot}.log`)}`,
              died: true,
            });
          const finish = (r: Parameters<typeof resolve>[0]) => {
            w.off('message', onMessage);
            w.off('exit', onExit);
            resolve(r);
          };
          w.on('message', onMessage);
          w.on('exit', onExit);
          w.send({ type: 'run', hash: trial.hash, config: trial.config, outDir } satisfies RunTrialMessage);
        });
        if (interrupted) return;
        running.delete(slot);
        const seconds = (performance.now() - started) / 1000;
        if (result.ok) {
          store.commitDone(trial.hash, result.outcome);
          done++;
          emit({ type: 'trial-end', worker: slot, trial, status: 'done', seconds, outcome: result.outcome });
        } else {
          store.commitFailed(trial.hash, result.error, seconds);
          failed++;
          emit({ type: 'trial-end', worker: slot, trial, status: 'failed', seconds, error: result.error });
          if (result.died) w = spawn(slot);
        }
      }
      w.disconnect();
    };
    if (todo) await Promise.all(Array.from({ length: nWorkers }, (_, i) => serve(i + 1)));
    store.close();
    const report = await writeReport(opts.outDir);
    const seconds = (performance.now() - t0) / 1000;
    const summary: SweepSummary = {
      name: plan.name,
      outDir: opts.outDir,
      total: plan.trials.length,
      skipped: plan.trials.length - unfinished.size,
      done,
      failed,
      workers: todo ? nWorkers : 0,
      seconds,
      trialsPerHour: ((done + failed) * 3600) / seconds,
      report: { files: report.files, markdown: report.markdown },
    };
    emit({ type: 'end', summary });
    return summary;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (store.db.open) store.close();
    for (const w of workers) if (w.connected) w.disconnect();
    unlock();
  }
}
