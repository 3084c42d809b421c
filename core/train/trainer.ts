import fs from 'node:fs';
import path from 'node:path';
import type { Callback, EpochReport } from '../contracts/runtime.js';
import type { ResolvedConfig } from '../config/experiment.js';
import { BatchQueue, DEFAULT_PREFETCH, batchesOf } from '../data/prefetch.js';
import { runEvaluators } from '../eval/evaluate.js';
import { randomWeightsBaseline } from '../eval/baseline.js';
import { selectBackend, type BackendChoice } from '../engine/backend.js';
import { ConfigError, InterruptedError, SelfsupError, TrainingError } from '../errors.js';
import { claimRunDir } from './run-dir.js';
import { EpochMeans, RunState, keepRecordsUpTo } from './run-state.js';
import { watchSignals } from './signals.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { Rng } from '../rng.js';
import { buildRun, type RunParts } from './build.js';
import { CHECKPOINT_FILE, writeAtomic } from './checkpoint.js';
import { trainStep } from './step.js';

export interface TrainOptions {
  registry: PluginRegistry;
  /** where checkpoints, metrics.jsonl and result.json go (none: nothing is written) */
  outDir?: string;
  /** continue the run whose checkpoint is in this directory */
  resume?: string;
  /** with `resume`: continue from the checkpoint before the last one (`checkpoint-previous.json`), when the last is damaged */
  previous?: boolean;
  /** callbacks besides the config's own (the CLI's progress bar) */
  callbacks?: Callback[];
  log?: (m: string) => void;
  /** skip backend selection (the caller already activated one) */
  backendReady?: BackendChoice;
  /** a dataset already in memory instead of loading `config.data` */
  data?: RunParts['data'];
  /** start a new run in `outDir` even though it is not empty (the run's own files are replaced, nothing else) */
  force?: boolean;
  /**
   * with `resume`: a run already at its budget (`train.maxSteps`, `train.maxSeconds`) goes straight
   * to its final evaluation instead of being refused (a sweep trial killed during that evaluation)
   */
  finishIfDone?: boolean;
  /**
   * On SIGINT or SIGTERM, finish the step, write a checkpoint and end with an InterruptedError that
   * says where to resume (the CLI's `train`); a second signal exits at once. Off by default: a
   * library's caller owns its process's signals.
   */
  handleSignals?: boolean;
}

export interface TrainResult {
  name: string;
  backend: string;
  steps: number;
  epochs: number;
  /** wall-clock seconds of the whole call (training and evaluation) */
  seconds: number;
  /** seconds spent in training steps (what `maxSeconds` limits) */
  trainSeconds: number;
  /** mean loss over the last epoch trained */
  loss: number;
  /** per-step losses of this process's steps (step number -> loss) */
  losses: Array<[number, number]>;
  eval: Record<string, number>;
  history: Array<Record<string, number>>;
  outDir?: string;
  parts: RunParts;
}

/**
 * Train a validated config: select the backend, build the run, loop over epochs (shuffled per
 * epoch from the seed, augmentation from the run's RNG), monitor, checkpoint, and evaluate at the end.
 *
 * @example
 * const result = await train(validateConfig(loadConfig('simclr', presets).config, registry), { registry, outDir: 'runs/a' });
 */
export async function train(config: ResolvedConfig, opts: TrainOptions): Promise<TrainResult> {
  const log = opts.log ?? (() => {});
  const backend = opts.backendReady ?? (await selectBackend(opts.registry, config.backend, log));
  log(`backend: ${backend.name}${backend.details ? ` (${backend.details})` : ''}${backend.skipped.map((s) => `; skipped ${s.name}: ${s.reason}`).join('')}`);
  // the output directory is claimed before anything is built or written: a run never lands on another
  const continuing = opts.resume !== undefined && opts.outDir !== undefined && path.resolve(opts.resume) === path.resolve(opts.outDir);
  const existed = opts.outDir !== undefined && fs.existsSync(opts.outDir);
  const release = opts.outDir ? claimRunDir(opts.outDir, { resume: continuing, force: opts.force }) : () => {};
  const signals = opts.handleSignals ? watchSignals() : undefined;
  try {
    return await trainIn(config, opts, backend, log, continuing, signals);
  } catch (e) {
    // a new run that failed before its first checkpoint leaves nothing behind (no empty run directory)
    if (opts.outDir && !continuing && !fs.existsSync(path.join(opts.outDir, CHECKPOINT_FILE))) {
      fs.rmSync(path.join(opts.outDir, 'metrics.jsonl'), { force: true });
      release();
      if (!existed && fs.readdirSync(opts.outDir).length === 0) fs.rmdirSync(opts.outDir);
    }
    throw e;
  } finally {
    signals?.stop();
    release();
  }
}

async function trainIn(
  config: ResolvedConfig,
  opts: TrainOptions,
  backend: BackendChoice,
  log: (m: string) => void,
  continuing: boolean,
  signals?: { received?: 'SIGINT' | 'SIGTERM' },
): Promise<TrainResult> {
  const parts = await buildRun(config, { registry: opts.registry, outDir: opts.outDir, log, data: opts.data });
  const run = new RunState(parts, opts, backend.name);
  run.signals = signals;
  if (opts.resume) run.resumeFrom(opts.resume, log, opts.previous);
  if (opts.resume && run.budgetSpent() && opts.finishIfDone) run.stopped = true;
  else if (opts.resume && run.budgetSpent()) {
    const { maxSteps, maxSeconds } = config.train;
    throw new ConfigError([
      {
        path: '/train',
        message: `the run in ${opts.resume} is already at step ${run.step}, its budget (${maxSteps !== undefined ? `train.maxSteps=${maxSteps}` : `train.maxSeconds=${maxSeconds}`}): nothing to resume`,
        hint: `raise it, e.g. --set train.maxSteps=${run.totalSteps}`,
      },
    ]);
  }
  // a new run (also one forced over an old run) starts its own metrics.jsonl; a continued one appends,
  // after dropping the records of steps its checkpoint does not hold (a run killed between a record and its checkpoint)
  if (opts.outDir && !continuing) fs.writeFileSync(path.join(opts.outDir, 'metrics.jsonl'), '');
  if (opts.outDir && continuing) keepRecordsUpTo(path.join(opts.outDir, 'metrics.jsonl'), run.step);
  const parameters = parts.params.reduce((n, p) => n + p.variable.size, 0);
  for (const cb of run.callbacks)
    await cb.onTrainStart?.({
      name: config.name,
      backend: backend.name,
      totalSteps: run.totalSteps,
      stepsPerEpoch: run.stepsPerEpoch,
      startStep: run.step,
      epochs: config.train.epochs,
      outDir: opts.outDir,
      parameters,
    });

  const t0 = performance.now();
  for (let epoch = Math.floor(run.step / run.stepsPerEpoch); epoch < config.train.epochs && !run.stopped; epoch++) {
    await runEpoch(run, epoch, log);
  }
  const interrupted = signals?.received;
  if (interrupted) {
    await run.saveCheckpoint(Math.floor(run.step / run.stepsPerEpoch));
    const where = opts.outDir
      ? `the last checkpoint is in ${opts.outDir}; resume with: selfsup train --resume ${opts.outDir}`
      : 'nothing was saved (no output directory)';
    throw new InterruptedError(
      `interrupted (${interrupted}) at step ${run.step} (epoch ${Math.floor(run.step / run.stepsPerEpoch) + 1}): ${where}`,
      interrupted,
    );
  }
  if (run.step === 0) throw new SelfsupError('no training step ran: the run was already complete', 1);
  await run.saveCheckpoint(Math.floor(run.step / run.stepsPerEpoch));
  const evalResult = await finalEvaluation(run, opts, log);
  const seconds = (performance.now() - t0) / 1000;
  const { step, history, lastEpochLoss: loss } = run;
  const result: TrainResult = {
    name: config.name,
    backend: backend.name,
    steps: step,
    epochs: step / run.stepsPerEpoch,
    seconds,
    trainSeconds: run.trainSeconds,
    loss,
    losses: run.losses,
    eval: evalResult,
    history,
    outDir: opts.outDir,
    parts,
  };
  if (opts.outDir) {
    writeAtomic(
      path.join(opts.outDir, 'result.json'),
      JSON.stringify({ name: config.name, backend: backend.name, steps: step, seconds, loss, eval: evalResult, history }, null, 1),
    );
  }
  for (const cb of run.callbacks) await cb.onTrainEnd?.({ loss, steps: step, seconds, eval: evalResult });
  return result;
}

/** One epoch (or what is left of it after a resume): its steps, then monitoring, metrics and the checkpoint. */
async function runEpoch(run: RunState, epoch: number, log: (m: string) => void): Promise<void> {
  const { parts } = run;
  const { config } = parts;
  const tc = config.train;
  const order = Rng.fromSeed(config.seed, `shuffle/${epoch}`).permutation(parts.data.train.count);
  const epochStart = performance.now();
  // an epoch the run stopped inside goes on with its sums so far: its record is the whole epoch's
  const means = run.partial ?? new EpochMeans();
  run.partial = undefined;
  const first = run.step - epoch * run.stepsPerEpoch;
  // a set read on demand: the next `prefetch` batches are decoded while this one trains
  const queue = new BatchQueue(parts.data.train, parts.info, batchesOf(order, tc.batchSize, first, run.stepsPerEpoch), tc.prefetch ?? DEFAULT_PREFETCH);
  try {
    await epochSteps(run, epoch, first, queue, means);
  } finally {
    queue.close();
  }
  const { loss, ...stepMeans } = means.means();
  run.lastEpochLoss = loss ?? NaN;
  run.lastMeans = stepMeans;
  const epochDone = !run.stopped || run.step % run.stepsPerEpoch === 0;
  if (!epochDone) {
    // stopped inside the epoch (a step or time budget): its record waits for the epoch's end (after --resume)
    run.partial = means;
    run.writeMetric({
      type: 'partial-epoch',
      epoch: epoch + 1,
      step: run.step,
      loss: run.lastEpochLoss,
      seconds: (performance.now() - epochStart) / 1000,
      metrics: stepMeans,
    });
    return;
  }
  const metrics: Record<string, number> = { ...stepMeans };
  if (epochDone && config.eval.every > 0 && (epoch + 1) % config.eval.every === 0 && epoch + 1 < tc.epochs) {
    for (const cb of run.callbacks) await cb.onEvalStart?.('monitor');
    Object.assign(metrics, await runEvaluators(parts.monitor, parts.tasks[0].branch, parts.data, run.evalOptions(log)));
  }
  const report: EpochReport = { epoch: epoch + 1, step: run.step, loss: run.lastEpochLoss, seconds: (performance.now() - epochStart) / 1000, metrics };
  run.history.push({ epoch: epoch + 1, step: run.step, loss: run.lastEpochLoss, ...metrics });
  run.writeMetric({ type: 'epoch', ...report });
  for (const cb of run.callbacks) await cb.onEpochEnd?.(report, parts);
  if (tc.checkpointEvery > 0 && (epoch + 1) % tc.checkpointEvery === 0) await run.saveCheckpoint(epoch + 1);
}

/** The steps of one epoch from step `first` of it, batches taken from `queue`, until the epoch ends or the budget is spent. */
async function epochSteps(run: RunState, epoch: number, first: number, queue: BatchQueue, means: EpochMeans): Promise<void> {
  const { parts } = run;
  const tc = parts.config.train;
  for (let s = first; s < run.stepsPerEpoch; s++) {
    if (run.budgetSpent()) {
      run.stopped = true;
      break;
    }
    const tStep = performance.now();
    const progress = run.progress();
    parts.scalars.apply(progress);
    const multiplier = parts.schedule.value(progress);
    const batch = await queue.take();
    let r;
    try {
      r = await trainStep(parts, batch, run.rng, multiplier, progress);
    } catch (e) {
      try {
        batch.x.dispose();
      } catch {
        // a backend that failed (out of memory) may fail again here: report the first error
      }
      throw explainStepFailure(e, run.backend, tc.batchSize);
    }
    batch.x.dispose();
    run.step++;
    means.add({ loss: r.loss, ...r.terms, ...r.monitor });
    run.losses.push([run.step, r.loss]);
    const dt = (performance.now() - tStep) / 1000;
    run.trainSeconds += dt;
    // let timers, signals and IPC run between steps (a progress display, a parent process going away)
    await new Promise((resolve) => setImmediate(resolve));
    const report = {
      step: run.step,
      epoch,
      totalSteps: run.horizon(),
      stepsPerEpoch: run.stepsPerEpoch,
      loss: r.loss,
      terms: r.terms,
      monitor: r.monitor,
      lr: parts.optimizer.lr * multiplier,
      viewsPerSecond: r.views / dt,
      elapsedSeconds: run.trainSeconds,
    };
    for (const cb of run.callbacks) await cb.onStepEnd?.(report);
    if (run.budgetSpent()) {
      run.stopped = true;
      break;
    }
  }
}

/** The final evaluators, the collapse monitor on the test set, and the random-weights baseline. */
async function finalEvaluation(run: RunState, opts: TrainOptions, log: (m: string) => void): Promise<Record<string, number>> {
  const { parts } = run;
  for (const cb of run.callbacks) await cb.onEvalStart?.('final');
  const result = await runEvaluators(parts.final, parts.tasks[0].branch, parts.data, run.evalOptions(log));
  // the collapse monitor of the last epoch, beside its value for z spread evenly over the sphere
  for (const [k, v] of Object.entries(run.lastMeans)) if (k === 'z_std' || k.endsWith('/z_std')) result[k] = v;
  if (result.z_std !== undefined) result.z_std_ref = 1 / Math.sqrt(parts.tasks[0].head.dim);
  if (parts.config.eval.baseline) {
    for (const cb of run.callbacks) await cb.onEvalStart?.('random-weights baseline');
    Object.assign(result, await randomWeightsBaseline(parts, parts.config, opts.registry, log));
  }
  return result;
}

/** Turn a backend's raw failure inside a step into a sentence that says what to do. */
function explainStepFailure(e: unknown, backend: string, batchSize: number): unknown {
  const msg = e instanceof Error ? e.message : String(e);
  if (/memory access out of bounds|out of memory|Cannot enlarge memory|Array buffer allocation failed|^Aborted\(\)/i.test(msg)) {
    return new TrainingError(
      `the ${backend} backend ran out of memory during a training step (${msg}); ${backend === 'wasm' ? 'wasm memory is limited to 4 GB: ' : ''}lower train.batchSize (now ${batchSize}) or use a smaller encoder`,
    );
  }
  return e;
}
