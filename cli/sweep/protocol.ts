import type { ResolvedConfig } from '../../core/index.js';
import type { TrialOutcome } from '../../core/sweep/index.js';

/** Parent -> trial process: train this trial's config into `outDir`. */
export interface RunTrialMessage {
  type: 'run';
  hash: string;
  config: ResolvedConfig;
  outDir: string;
  /**
   * start over even where `outDir` holds the trial's checkpoint (a failed trial run again);
   * otherwise a trial that was stopped (its process killed) resumes from its last checkpoint
   */
  fresh?: boolean;
}

/** A trial's step report. */
export interface TrialProgress {
  hash: string;
  step: number;
  totalSteps: number;
  loss: number;
  epoch: number;
}

/** Trial process -> parent. */
export type WorkerMessage =
  | { type: 'ready'; pid: number }
  | ({ type: 'progress' } & TrialProgress)
  /** `resumedFrom`: the checkpoint's step the trial continued from (0: from the start) */
  | { type: 'done'; hash: string; outcome: TrialOutcome; resumedFrom: number }
  /** `retryable`: the machine refused (a lock, a full disk), not the training (NaN loss, bad data, a bad config) */
  | { type: 'failed'; hash: string; error: string; seconds: number; retryable: boolean };
