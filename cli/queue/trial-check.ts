/** What a check needs of a job: its state, and its removal (BullMQ's `Job`, or a fake in tests). */
export interface CheckedJob {
  getState(): Promise<string>;
  remove(): Promise<void>;
}

/** What a check needs of the queue (BullMQ's `Queue`, or a fake in tests). */
export interface CheckedQueue<J extends CheckedJob> {
  getJob(id: string): Promise<J | undefined>;
}

export interface TrialCheckDeps<J extends CheckedJob> {
  queue: CheckedQueue<J>;
  /** trials not yet committed to the store; a collected trial leaves it before its job is removed */
  outstanding: ReadonlySet<string>;
  /** trials failed in an earlier run of the sweep and run again (--retry-failed) */
  failedBefore: ReadonlySet<string>;
  /** store a finished job's result (once), then remove the job */
  collect(job: J, state: 'completed' | 'failed'): Promise<void>;
  /** put the trial on the queue; `again`: it was enqueued before and the queue no longer holds it */
  enqueue(hash: string, opts: { again: boolean; fresh: boolean }): Promise<void>;
}

/**
 * The coordinator's look at one trial's job: collect it if it finished, enqueue it (again) if the
 * queue does not hold it. Checks come from the queue's events and from the periodic poll, so two
 * may overlap. One check per trial runs at a time, and a trial collected while a check waited on
 * Redis is left alone: its job is missing because it was stored and removed, not because the queue
 * lost it (enqueueing it then would train it twice).
 */
export function trialCheck<J extends CheckedJob>(deps: TrialCheckDeps<J>): (hash: string, first: boolean) => Promise<void> {
  const inFlight = new Set<string>();
  return async (hash, first) => {
    if (!deps.outstanding.has(hash) || inFlight.has(hash)) return;
    inFlight.add(hash);
    try {
      const job = await deps.queue.getJob(hash);
      let state = job ? await job.getState() : 'unknown';
      if (!deps.outstanding.has(hash)) return; // collected meanwhile
      // --retry-failed: a failed trial's job still in Redis is replaced by a fresh one
      if (job && state === 'failed' && first && deps.failedBefore.has(hash)) {
        await job.remove();
        state = 'unknown';
      }
      if (state === 'completed' || state === 'failed') return await deps.collect(job!, state);
      if (state !== 'unknown') return;
      await deps.enqueue(hash, { again: !first, fresh: first && deps.failedBefore.has(hash) });
    } finally {
      inFlight.delete(hash);
    }
  };
}
