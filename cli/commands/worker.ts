import { SelfsupError } from '../api.js';
import { startQueueWorker } from '../queue/worker.js';

export interface WorkerFlags {
  queue: string;
  concurrency: string;
  backend?: string;
  artifacts: string;
  lockSeconds: string;
}

/**
 * `selfsup worker --queue URL`: train trials off the queue until stopped. The first Ctrl-C (or
 * SIGTERM) stops taking trials and lets the running ones finish; a second kills them (they are
 * retried elsewhere once their lock expires, resuming from their checkpoints).
 */
export async function workerCommand(o: WorkerFlags): Promise<void> {
  const concurrency = Number(o.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new SelfsupError(`--concurrency must be a whole number, 1 or more (got '${o.concurrency}')`, 2);
  const lockSeconds = Number(o.lockSeconds);
  if (!(lockSeconds >= 1)) throw new SelfsupError(`--lock-seconds must be 1 or more (got '${o.lockSeconds}')`, 2);
  const w = await startQueueWorker({ queue: o.queue, concurrency, backend: o.backend, artifacts: o.artifacts, lockSeconds });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`\n${sig}: taking no more trials, finishing the running ones (again to stop them now: they will be retried elsewhere)\n`);
      void w.close(false);
    } else void w.close(true).then(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await w.closed;
}
