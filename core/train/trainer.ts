import fs from 'node:fs';
import path from 'node:path';
import type { Callback, EpochReport } from '../contracts/runtime.js';
import type { Progress } from '../contracts/schedule.js';
import type { ResolvedConfig } from '../config/experiment.js';
import { makeBatch } from '../data/batch.js';
import { runEvaluators } from '../eval/evaluate.js';
import { randomWeightsBaseline } from '../eval/baseline.js';
import { evalViewOf } from './build.js';
import { selectBackend, type BackendChoice } from '../engine/backend.js';
import { SelfsupError, TrainingError } from '../errors.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { Rng } from '../rng.js';
import { buildRun, stateTensors, type RunParts } from './build.js';
import { readCheckpoint, restoreTensors, saveCheckpoint, writeAtomic } from './checkpoint.js';
import { trainStep } from './step.js';

export interface TrainOptions {
  registry: PluginRegistry;
  /** where checkpoints, metrics.jsonl and result.json go (none: nothing is written) */
  outDir?: string;
  /** continue the run whose checkpoint is in this directory */
  resume?: string;
  /** callbacks besides the config's own (the CLI's progress bar) */
  callbacks?: Callback[];
  log?: (m: string) => void;
  /** skip backend selection (the caller already activated one) */
  backendReady?: BackendChoice;
  /** a dataset already in memory instead of loading `config.data` */
  data?: RunParts['data'];
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
  const parts = await buildRun(config, { registry: opts.registry, outDir: opts.outDir, log, data: opts.data });
  const callbacks = [...parts.callbacks, ...(opts.callbacks ?? [])];
  const { train: tc } = config;
  const stepsPerEpoch = Math.floor(parts.data.train.count / tc.batchSize);
  const totalSteps = stepsPerEpoch * tc.epochs;
  /**
   * The step count the schedule spans. With `maxSeconds`, the run ends at the time budget, so the
   * horizon is fitted to it from the steps per second so far (after 5 steps), never beyond `epochs`:
   * a cosine schedule then ends at the budget, as in a wall-clock-driven schedule.
   */
  const horizon = (done: number, seconds: number) =>
    tc.maxSeconds === undefined || done - firstStep < 5 ? totalSteps : Math.min(totalSteps, Math.max(done + 1, Math.round(firstStep + ((done - firstStep) * tc.maxSeconds) / seconds)));
  let step = 0;
  let rng = Rng.fromSeed(config.seed, 'augment');
  let history: Array<Record<string, number>> = [];
  if (opts.resume) {
    const { meta, values } = readCheckpoint(opts.resume);
    restoreTensors(meta, values, stateTensors(parts));
    step = meta.step;
    rng = Rng.fromState(meta.rng);
    for (const [key, state] of Object.entries(meta.rngs ?? {})) parts.rngs.get(key)?.restore(state);
    history = meta.history;
    log(`resumed from ${opts.resume} at step ${step} (epoch ${meta.epoch})`);
  }
  const firstStep = step;
  if (opts.outDir) fs.mkdirSync(opts.outDir, { recursive: true });
  const metricsFile = opts.outDir ? path.join(opts.outDir, 'metrics.jsonl') : undefined;
  const writeMetric = (rec: Record<string, unknown>) => metricsFile && fs.appendFileSync(metricsFile, JSON.stringify(rec) + '\n');
  const parameters = parts.params.reduce((n, p) => n + p.variable.size, 0);
  for (const cb of callbacks) await cb.onTrainStart?.({ name: config.name, backend: backend.name, totalSteps, stepsPerEpoch, startStep: step, epochs: tc.epochs, outDir: opts.outDir, parameters });

  let savedAt = -1;
  const saveCkpt = (epoch: number) => {
    if (!opts.outDir || savedAt === step) return;
    savedAt = step;
    const rngs = Object.fromEntries([...parts.rngs].map(([k, r]) => [k, r.state()]));
    saveCheckpoint(opts.outDir, { step, epoch, rng: rng.state(), rngs, config, backend: backend.name, history }, stateTensors(parts));
  };
  const evalOpts = { batchSize: config.eval.batchSize, trainLimit: config.eval.trainLimit, seed: config.seed, log, evalView: evalViewOf(parts) };
  const branch0 = parts.tasks[0].branch;
  const losses: Array<[number, number]> = [];
  const t0 = performance.now();
  let trainSeconds = 0;
  let lastEpochLoss = NaN;
  let stop = false;
  for (let epoch = Math.floor(step / stepsPerEpoch); epoch < tc.epochs && !stop; epoch++) {
    const order = Rng.fromSeed(config.seed, `shuffle/${epoch}`).permutation(parts.data.train.count);
    const epochStart = performance.now();
    let sum = 0;
    let n = 0;
    for (let s = step - epoch * stepsPerEpoch; s < stepsPerEpoch; s++) {
      const tStep = performance.now();
      const progress: Progress = { step, totalSteps: horizon(step, trainSeconds), epoch, stepsPerEpoch };
      const lr = parts.optimizer.lr * parts.schedule.value(progress);
      const batch = makeBatch(parts.data.train, parts.info, order.subarray(s * tc.batchSize, (s + 1) * tc.batchSize));
      let r;
      try {
        r = trainStep(parts, batch, rng, lr, progress);
      } catch (e) {
        try {
          batch.x.dispose();
        } catch {
          // a backend that failed (out of memory) may fail again here: report the first error
        }
        throw explainStepFailure(e, backend.name, tc.batchSize);
      }
      batch.x.dispose();
      step++;
      sum += r.loss;
      n++;
      losses.push([step, r.loss]);
      const dt = (performance.now() - tStep) / 1000;
      trainSeconds += dt;
      // let timers, signals and IPC run between steps (a progress display, a parent process going away)
      await new Promise((resolve) => setImmediate(resolve));
      for (const cb of callbacks) await cb.onStepEnd?.({ step, epoch, totalSteps: horizon(step, trainSeconds), stepsPerEpoch, loss: r.loss, lr, viewsPerSecond: r.views / dt, elapsedSeconds: trainSeconds });
      if ((tc.maxSteps !== undefined && step >= tc.maxSteps) || (tc.maxSeconds !== undefined && trainSeconds >= tc.maxSeconds)) {
        stop = true;
        break;
      }
    }
    lastEpochLoss = sum / Math.max(n, 1);
    const epochDone = !stop || step % stepsPerEpoch === 0;
    const metrics: Record<string, number> = {};
    if (epochDone && config.eval.every > 0 && (epoch + 1) % config.eval.every === 0 && epoch + 1 < tc.epochs) {
      for (const cb of callbacks) await cb.onEvalStart?.('monitor');
      Object.assign(metrics, await runEvaluators(parts.monitor, branch0, parts.data, evalOpts));
    }
    const report: EpochReport = { epoch: epoch + 1, step, loss: lastEpochLoss, seconds: (performance.now() - epochStart) / 1000, metrics };
    history.push({ epoch: epoch + 1, step, loss: lastEpochLoss, ...metrics });
    writeMetric({ type: 'epoch', ...report });
    for (const cb of callbacks) await cb.onEpochEnd?.(report, parts);
    if (tc.checkpointEvery > 0 && (epoch + 1) % tc.checkpointEvery === 0) saveCkpt(epoch + 1);
  }
  if (step === 0) throw new SelfsupError('no training step ran: the run was already complete', 1);
  saveCkpt(Math.floor(step / stepsPerEpoch));
  for (const cb of callbacks) await cb.onEvalStart?.('final');
  const evalResult = await runEvaluators(parts.final, branch0, parts.data, evalOpts);
  if (config.eval.baseline) {
    for (const cb of callbacks) await cb.onEvalStart?.('random-weights baseline');
    Object.assign(evalResult, await randomWeightsBaseline(parts, config, opts.registry, log));
  }
  const seconds = (performance.now() - t0) / 1000;
  const result: TrainResult = { name: config.name, backend: backend.name, steps: step, epochs: step / stepsPerEpoch, seconds, trainSeconds, loss: lastEpochLoss, losses, eval: evalResult, history, outDir: opts.outDir, parts };
  if (opts.outDir) {
    writeAtomic(path.join(opts.outDir, 'result.json'), JSON.stringify({ name: config.name, backend: backend.name, steps: step, seconds, loss: lastEpochLoss, eval: evalResult, history }, null, 1));
  }
  for (const cb of callbacks) await cb.onTrainEnd?.({ loss: lastEpochLoss, steps: step, seconds, eval: evalResult });
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
