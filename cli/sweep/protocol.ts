import type { ResolvedConfig } from '../../core/index.js';
import type { TrialOutcome } from '../../core/sweep/index.js';

/** Runner -> worker: train this trial's config into `outDir`. */
export interface RunTrialMessage {
  type: 'run';
  hash: string;
  config: ResolvedConfig;
  outDir: string;
}

/** Worker -> runner. */
export type WorkerMessage =
  | { type: 'ready'; pid: number }
  | { type: 'progress'; hash: string; step: number; totalSteps: number; loss: number; epoch: number }
  | { type: 'done'; hash: string; outcome: TrialOutcome }
  | { type: 'failed'; hash: string; error: string; seconds: number };
