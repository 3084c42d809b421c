import path from 'node:path';
import { asEnvironmentError } from '../../core/index.js';
import { SweepStore, writeReport, type PlannedTrial, type SweepPlan } from '../../core/sweep/index.js';
import { acquireLock } from '../../core/util/lock.js';
import { makeDirs } from '../../core/util/make-dirs.js';
import type { SweepSummary } from './runner.js';

/** A sweep directory opened by its one writer (the local runner or the queue's coordinator). */
export interface SweepSession {
  store: SweepStore;
  /** releases the directory's lock */
  unlock: () => void;
  /** hashes still to run (pending, stopped; failed ones too with `retryFailed`) */
  unfinished: Set<string>;
  /** those trials, in sweep order */
  todo: PlannedTrial[];
  /** failed trials run again (`retryFailed`): they start over; a stopped one resumes from its checkpoint */
  failedBefore: Set<string>;
}

/**
 * Make and lock the sweep directory, record the plan in its store (new trials pending, known ones
 * keep their results, trials left running by a killed writer become pending) and list what is to run.
 */
export function openSweep(plan: SweepPlan, outDir: string, retryFailed = false): SweepSession {
  try {
    makeDirs(outDir);
  } catch (e) {
    throw asEnvironmentError(e, 'make the sweep directory', path.resolve(outDir));
  }
  const unlock = acquireLock(outDir);
  const store = new SweepStore(outDir);
  try {
    const axes = [...new Set(plan.trials.flatMap((t) => Object.keys(t.axes)))];
    store.setMeta({ name: plan.name, spec: plan.spec, file: plan.file ?? null, axes, metrics: plan.spec.metrics, hashes: plan.trials.map((t) => t.hash) });
    store.plan(plan.trials);
    const unfinished = store.unfinished(
      plan.trials.map((t) => t.hash),
      retryFailed,
    );
    const failedBefore = new Set(
      store
        .trials(unfinished)
        .filter((t) => t.status === 'failed')
        .map((t) => t.hash),
    );
    return { store, unlock, unfinished, todo: plan.trials.filter((t) => unfinished.has(t.hash)), failedBefore };
  } catch (e) {
    store.close();
    unlock();
    throw e;
  }
}

/** The writer's last act, however it ends: close the store (if still open), release the directory's lock. */
export function releaseSweep(s: SweepSession): void {
  if (s.store.db.open) s.store.close();
  s.unlock();
}

/**
 * While the sweep runs: on SIGINT or SIGTERM, `stop` does what this writer owes its trials, then the
 * store is closed, the directory unlocked and the process exits 130 or 143. Returns the undo.
 */
export function exitOnSignal(s: SweepSession, stop: (sig: NodeJS.Signals) => void): () => void {
  const onSignal = (sig: NodeJS.Signals) => {
    stop(sig);
    releaseSweep(s);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** Close the store, write report.md and report.html, and sum up this run of the sweep. */
export async function closeSweep(
  plan: SweepPlan,
  outDir: string,
  s: SweepSession,
  run: { started: number; done: number; failed: number; workers: number },
): Promise<SweepSummary> {
  s.store.close();
  const report = await writeReport(outDir);
  const seconds = (performance.now() - run.started) / 1000;
  return {
    name: plan.name,
    outDir,
    total: plan.trials.length,
    skipped: plan.trials.length - s.unfinished.size,
    done: run.done,
    failed: run.failed,
    workers: run.workers,
    seconds,
    trialsPerHour: ((run.done + run.failed) * 3600) / seconds,
    report: { files: report.files, markdown: report.markdown },
  };
}
