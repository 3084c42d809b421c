import fs from 'node:fs';
import path from 'node:path';
import type { Callback } from '../contracts/runtime.js';
import { progressAt, type Progress } from '../contracts/schedule.js';
import { asEnvironmentError } from '../errors.js';
import { Rng } from '../rng.js';
import { evalOptionsOf, stateTensors, type RunParts } from './build.js';
import { promotePreviousCheckpoint, readCheckpoint, restoreTensors, saveCheckpoint, writeAtomic } from './checkpoint.js';
import type { TrainOptions } from './trainer.js';

/** Where a run stands between steps: step count, RNG, history, timings; and what it writes. */
export class RunState {
  readonly callbacks: Callback[];
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  step = 0;
  rng: Rng;
  history: Array<Record<string, number>> = [];
  losses: Array<[number, number]> = [];
  trainSeconds = 0;
  lastEpochLoss = NaN;
  stopped = false;
  /** the means of the steps made so far in an epoch the run stopped inside (kept in the checkpoint) */
  partial?: EpochMeans;
  /** the step means of the last epoch run, complete or not (the collapse monitor's final value) */
  lastMeans: Record<string, number> = {};
  /** a signal received (CLI): the loop stops after its step */
  signals?: { received?: 'SIGINT' | 'SIGTERM' };
  private firstStep = 0;
  private savedAt = -1;
  /** the directory the run resumed from, if any */
  private resumedIn?: string;

  constructor(
    readonly parts: RunParts,
    readonly opts: TrainOptions,
    readonly backend: string,
  ) {
    const { config } = parts;
    this.callbacks = [...parts.callbacks, ...(opts.callbacks ?? [])];
    this.stepsPerEpoch = Math.floor(parts.data.train.count / config.train.batchSize);
    this.totalSteps = this.stepsPerEpoch * config.train.epochs;
    this.rng = Rng.fromSeed(config.seed, 'augment');
  }

  resumeFrom(dir: string, log: (m: string) => void, previous = false): void {
    const { meta, values } = readCheckpoint(dir, { previous });
    this.resumedIn = path.resolve(dir);
    // continuing from the previous checkpoint in its own directory: it is the last one again
    if (previous && this.opts.outDir && path.resolve(this.opts.outDir) === this.resumedIn) promotePreviousCheckpoint(dir);
    restoreTensors(meta, values, stateTensors(this.parts));
    this.step = this.firstStep = meta.step;
    this.rng = Rng.fromState(meta.rng);
    for (const [key, state] of Object.entries(meta.rngs ?? {})) this.parts.rngs.get(key)?.restore(state);
    this.history = meta.history;
    // the last epoch's loss and step means, which the final evaluation reports (z_std): a run resumed
    // at its end (killed during the final evaluation) reports what the uninterrupted run did
    const last = this.history[this.history.length - 1];
    if (last && last.step === this.step) {
      const { epoch: _e, step: _s, loss, ...means } = last;
      this.lastEpochLoss = loss ?? NaN;
      this.lastMeans = means;
    }
    if (meta.partialEpoch) {
      this.partial = EpochMeans.from(meta.partialEpoch);
      // stopped inside an epoch (a step or time budget): the final evaluation reports its means so far
      const { loss, ...means } = this.partial.means();
      this.lastEpochLoss = loss ?? NaN;
      this.lastMeans = means;
    }
    log(`resumed from ${dir}${previous ? ' (the checkpoint before the last)' : ''} at step ${this.step} (epoch ${meta.epoch})`);
  }

  /**
   * The step count the schedules span. With `maxSeconds`, the run ends at the time budget, so the
   * horizon is fitted to it from the steps per second so far (after 5 steps), never beyond `epochs`:
   * a cosine schedule then ends at the budget, as in a wall-clock-driven schedule.
   */
  horizon(): number {
    const { maxSeconds } = this.parts.config.train;
    const done = this.step;
    if (maxSeconds === undefined || done - this.firstStep < 5) return this.totalSteps;
    return Math.min(this.totalSteps, Math.max(done + 1, Math.round(this.firstStep + ((done - this.firstStep) * maxSeconds) / this.trainSeconds)));
  }

  progress(): Progress {
    return progressAt(this.step, this.horizon(), this.stepsPerEpoch);
  }

  /** true once `maxSteps` or `maxSeconds` is reached, or a signal asked the run to stop */
  budgetSpent(): boolean {
    const { maxSteps, maxSeconds } = this.parts.config.train;
    return (
      this.signals?.received !== undefined || (maxSteps !== undefined && this.step >= maxSteps) || (maxSeconds !== undefined && this.trainSeconds >= maxSeconds)
    );
  }

  writeMetric(rec: Record<string, unknown>): void {
    if (!this.opts.outDir) return;
    const file = path.join(this.opts.outDir, 'metrics.jsonl');
    try {
      fs.appendFileSync(file, JSON.stringify(rec) + '\n');
    } catch (e) {
      throw asEnvironmentError(e, 'append to', file);
    }
  }

  async saveCheckpoint(epoch: number): Promise<void> {
    if (!this.opts.outDir || this.savedAt === this.step) return;
    // the checkpoint it replaces is kept as the previous one when it is this run's: saved by this process, or the one it resumed from
    const keepPrevious = this.savedAt >= 0 || this.resumedIn === path.resolve(this.opts.outDir);
    this.savedAt = this.step;
    const rngs = Object.fromEntries([...this.parts.rngs].map(([k, r]) => [k, r.state()]));
    const scheduled = this.parts.scalars.values();
    await saveCheckpoint(
      this.opts.outDir,
      {
        step: this.step,
        epoch,
        rng: this.rng.state(),
        rngs,
        scheduled,
        partialEpoch: this.partial?.state(),
        config: this.parts.config,
        backend: this.backend,
        history: this.history,
      },
      stateTensors(this.parts),
      { keepPrevious },
    );
  }

  evalOptions(log: (m: string) => void) {
    return evalOptionsOf(this.parts, log);
  }
}

/** Keep the metrics.jsonl records up to `step` (the checkpoint's): what a resumed run redoes is written again, once. */
export function keepRecordsUpTo(file: string, step: number): void {
  if (!fs.existsSync(file)) return;
  const lines = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const kept = lines.filter((l) => {
    try {
      return (JSON.parse(l) as { step?: number }).step! <= step;
    } catch {
      return false; // a line cut short by the kill
    }
  });
  if (kept.length !== lines.length) writeAtomic(file, kept.map((l) => l + '\n').join(''));
}

/** Means of per-step values (loss terms, the collapse monitor) over an epoch. */
export class EpochMeans {
  private readonly sums = new Map<string, number>();
  private count = 0;
  /** resume an epoch's sums from a checkpoint (a run stopped inside the epoch) */
  static from(state: { count: number; sums: Record<string, number> }): EpochMeans {
    const m = new EpochMeans();
    m.count = state.count;
    for (const [k, v] of Object.entries(state.sums)) m.sums.set(k, v);
    return m;
  }
  state(): { count: number; sums: Record<string, number> } {
    return { count: this.count, sums: Object.fromEntries(this.sums) };
  }
  add(values: Record<string, number>): void {
    this.count++;
    for (const [k, v] of Object.entries(values)) this.sums.set(k, (this.sums.get(k) ?? 0) + v);
  }
  means(): Record<string, number> {
    return Object.fromEntries([...this.sums].map(([k, s]) => [k, s / Math.max(this.count, 1)]));
  }
}
