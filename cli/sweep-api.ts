/**
 * `selfsup/sweep`: ablation sweeps — specs, planning, the SQLite results store (better-sqlite3),
 * the runner and the report. Kept out of the main entry so that a plugin's import of `selfsup`
 * never loads the store's native addon.
 *
 * @example
 * import { runSweep } from 'selfsup/sweep';
 * const summary = await runSweep('presets/sweeps/methods.json', { workers: 2 });
 */
export * from '../core/sweep/index.js';
export { runSweep, type SweepOptions, type SweepEvent, type SweepSummary } from './sweep/runner.js';
export { runQueuedSweep, type QueuedSweepOptions, type QueuedSweepSummary, type QueueOverhead } from './queue/coordinator.js';
export { startQueueWorker, type QueueWorkerOptions, type QueueWorkerHandle } from './queue/worker.js';
export { parseQueueUrl, QUEUE_NAME, type QueueTarget } from './queue/connection.js';
export type { TrialJobData, TrialJobProgress, TrialJobResult } from './queue/job.js';
