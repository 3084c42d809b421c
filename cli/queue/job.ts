import type { ResolvedConfig } from '../../core/index.js';
import type { TrialOutcome } from '../../core/sweep/index.js';

/**
 * A trial's job on the queue (job id = the trial's config hash, so enqueueing it twice is a no-op).
 * It holds what a worker needs to train the trial and nothing else: no store path, no credentials.
 */
export interface TrialJobData {
  /** the sweep's name (for the worker's log) */
  sweep: string;
  index: number;
  label: string;
  hash: string;
  config: ResolvedConfig;
  /** start over even where the artifacts hold a checkpoint (a failed trial run again) */
  fresh?: boolean;
}

/** A job's progress reports (`job.updateProgress`). */
export interface TrialJobProgress {
  /** `host/pid#slot` of the worker running it */
  worker: string;
  step: number;
  totalSteps: number;
  loss: number;
}

/** What a worker returns for a trial (the job's return value, kept in Redis until the coordinator has stored it). */
export interface TrialJobResult {
  outcome: TrialOutcome;
  worker: string;
  host: string;
  /** the checkpoint step the trial resumed from (0: the start) */
  resumedFrom: number;
  /** wall-clock ms (epoch) when this worker started and ended the trial */
  startedAt: number;
  endedAt: number;
  /**
   * ms from the moment the trial could have started (enqueued, or its worker slot free, whichever
   * came later) to its start: the queue's own latency, not the wait for a free worker
   */
  startLatencyMs: number;
}
