import path from 'node:path';
import { SelfsupError, builtinPresets, createRegistry, locateConfig } from '../api.js';
import { planSweep } from '../sweep-api.js';
import { builtinSweeps } from './presets.js';
import { SweepProgress } from '../sweep/progress.js';
import { runSweep } from '../sweep/runner.js';

export interface SweepFlags {
  workers: string;
  queue?: string;
  attempts: string;
  connectSeconds: string;
  out?: string;
  retryFailed?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

/** `selfsup sweep SPEC`: validate every trial, then run the unfinished ones and write the report. */
export async function sweepCommand(spec: string, o: SweepFlags): Promise<void> {
  const workers = Number(o.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new SelfsupError(`--workers must be a whole number of processes, 1 or more (got '${o.workers}')`, 2);
  // a spec file, or the name of a shipped sweep (presets/sweeps/<name>.json)
  const file = locateConfig(spec, builtinSweeps());
  const plan = await planSweep(file, { registry: createRegistry(), presets: builtinPresets() });
  const outDir = o.out ?? path.join('sweeps', plan.name);
  if (o.dryRun) {
    if (o.json)
      process.stdout.write(
        JSON.stringify({ name: plan.name, trials: plan.trials.map((t) => ({ index: t.index, label: t.label, hash: t.hash, axes: t.axes, seed: t.seed })) }) +
          '\n',
      );
    else
      process.stdout.write(
        `sweep ${plan.name}: ${plan.trials.length} valid trials\n${plan.trials.map((t) => `  ${String(t.index).padStart(3)}  ${t.hash}  ${t.label}`).join('\n')}\n`,
      );
    return;
  }
  const attempts = Number(o.attempts ?? 2);
  if (!Number.isInteger(attempts) || attempts < 1) throw new SelfsupError(`--attempts must be a whole number, 1 or more (got '${o.attempts}')`, 2);
  const progress = new SweepProgress();
  // BullMQ and ioredis load only for sweeps through a queue
  const summary = o.queue
    ? await (
        await import('../queue/coordinator.js')
      ).runQueuedSweep(plan, {
        outDir,
        queue: o.queue,
        attempts,
        retryFailed: o.retryFailed,
        onEvent: progress.onEvent,
        connectSeconds: Number(o.connectSeconds),
      })
    : await runSweep(plan, {
        outDir,
        workers,
        retryFailed: o.retryFailed,
        onEvent: progress.onEvent,
      });
  if (o.json) {
    const { report, ...rest } = summary;
    process.stdout.write(JSON.stringify({ ...rest, report: report.files }) + '\n');
  } else {
    process.stdout.write(`\n${summary.report.markdown}\n`);
    process.stdout.write(
      `ran ${summary.done + summary.failed} trials (${summary.failed} failed, ${summary.skipped} already finished) in ${summary.seconds.toFixed(1)} s on ${summary.workers} worker(s): ${summary.trialsPerHour.toFixed(1)} trials/hour\n`,
    );
  }
  // a sweep with failed trials is not a success: exit 3, after the summary
  if (summary.failed > 0) {
    throw new SelfsupError(
      `${summary.failed} of ${plan.trials.length} trials failed (their errors are in ${outDir}/report.md and each trial's train.log); rerun with --retry-failed`,
      3,
    );
  }
}
