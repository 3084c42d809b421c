import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PlannedTrial, SweepPlan, TrialOutcome } from '../../core/sweep/index.js';
import { closeSweep, exitOnSignal, openSweep, releaseSweep } from './session.js';
import { TrialProcess } from './trial-process.js';

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
  /** `worker`: the slot ('1', '2', ...) locally; `host/pid#slot` for a queue worker */
  | { type: 'trial-start'; worker: string; trial: PlannedTrial }
  | { type: 'trial-progress'; worker: string; trial: PlannedTrial; step: number; totalSteps: number; loss: number }
  | {
      type: 'trial-end';
      worker: string;
      trial: PlannedTrial;
      status: 'done' | 'failed';
      seconds: number;
      error?: string;
      outcome?: TrialOutcome;
      /** the checkpoint step the trial resumed from (0 or absent: from the start) */
      resumedFrom?: number;
      /** times a worker started it (a retry after a worker died counts) */
      attempts?: number;
    }
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

/**
 * The environment of trial processes: the machine's cores shared out, N processes on C cores get
 * C / N threads each, native or wasm (unless the user set them).
 */
export function trialProcessEnv(processes: number): NodeJS.ProcessEnv {
  const threads = process.env.SELFSUP_THREADS ?? process.env.SELFSUP_WASM_THREADS ?? String(Math.max(1, Math.floor(os.availableParallelism() / processes)));
  return { ...process.env, SELFSUP_WASM_THREADS: process.env.SELFSUP_WASM_THREADS ?? threads, SELFSUP_THREADS: threads };
}

/**
 * Run a planned sweep: record every trial in the store, then train the unfinished ones in `workers`
 * forked processes, committing each result as it comes. A failing trial is recorded with its error
 * and the others go on; a worker that dies is replaced. Interrupting (SIGINT/SIGTERM) puts running
 * trials back to pending; a SIGKILL leaves them `running`, and the next run treats them as pending:
 * each resumes from its last checkpoint (`train.checkpointEvery`). Writes report.md and report.html
 * at the end.
 */
export async function runSweep(plan: SweepPlan, opts: SweepOptions): Promise<SweepSummary> {
  const t0 = performance.now();
  const session = openSweep(plan, opts.outDir, opts.retryFailed);
  const { store, failedBefore } = session;
  const emit = (e: SweepEvent) => opts.onEvent?.(e);
  const procs: TrialProcess[] = [];
  const running = new Map<number, PlannedTrial>();
  let interrupted = false;
  const keepSignals = exitOnSignal(session, () => {
    interrupted = true;
    for (const p of procs) p.kill();
    for (const t of running.values()) store.release(t.hash);
  });
  try {
    const queue = [...session.todo];
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

    const logDir = path.join(opts.outDir, 'workers');
    fs.mkdirSync(logDir, { recursive: true });
    const env = trialProcessEnv(nWorkers);
    /** One slot: take trials off the queue until it is empty (its process is replaced if it dies). */
    const serve = async (slot: number) => {
      const worker = String(slot);
      const proc = new TrialProcess(path.join(logDir, `worker-${slot}.log`), { ...env, SELFSUP_SWEEP_WORKER: worker }, opts.workerScript);
      procs.push(proc);
      while (queue.length && !interrupted) {
        const trial = queue.shift()!;
        const outDir = path.join(opts.outDir, 'trials', trial.hash);
        store.markRunning(trial.hash, slot);
        running.set(slot, trial);
        emit({ type: 'trial-start', worker, trial });
        const started = performance.now();
        const result = await proc.run({ type: 'run', hash: trial.hash, config: trial.config, outDir, fresh: failedBefore.has(trial.hash) }, (p) =>
          emit({ type: 'trial-progress', worker, trial, step: p.step, totalSteps: p.totalSteps, loss: p.loss }),
        );
        if (interrupted) return;
        running.delete(slot);
        const seconds = (performance.now() - started) / 1000;
        if (result.ok) {
          store.commitDone(trial.hash, result.outcome);
          done++;
          emit({ type: 'trial-end', worker, trial, status: 'done', seconds, outcome: result.outcome, resumedFrom: result.resumedFrom });
        } else {
          store.commitFailed(trial.hash, result.error, seconds);
          failed++;
          emit({ type: 'trial-end', worker, trial, status: 'failed', seconds, error: result.error });
        }
      }
      proc.close();
    };
    if (todo) await Promise.all(Array.from({ length: nWorkers }, (_, i) => serve(i + 1)));
    const summary = await closeSweep(plan, opts.outDir, session, { started: t0, done, failed, workers: todo ? nWorkers : 0 });
    emit({ type: 'end', summary });
    return summary;
  } finally {
    keepSignals();
    for (const p of procs) p.close();
    releaseSweep(session);
  }
}
