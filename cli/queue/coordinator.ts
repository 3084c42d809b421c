import { Queue, QueueEvents, type Job } from 'bullmq';
import { EnvironmentError } from '../../core/index.js';
import type { PlannedTrial, SweepPlan } from '../../core/sweep/index.js';
import type { SweepEvent, SweepSummary } from '../sweep/runner.js';
import { closeSweep, exitOnSignal, openSweep, releaseSweep } from '../sweep/session.js';
import { ConnectionWatch, QUEUE_NAME, parseQueueUrl } from './connection.js';
import type { TrialJobData, TrialJobProgress, TrialJobResult } from './job.js';
import { trialCheck } from './trial-check.js';

export interface QueuedSweepOptions {
  /** the sweep directory (sweep.db, report.md/html) on the coordinator's machine */
  outDir: string;
  /** `redis://…` or `rediss://…` */
  queue: string;
  /** runs of a trial before it is failed, after errors that may pass (a dead trial process, a refused lock); default 2 */
  attempts?: number;
  retryFailed?: boolean;
  onEvent?: (e: SweepEvent) => void;
  /** notices (Redis unreachable, a trial enqueued again) */
  say?: (line: string) => void;
  /** give up when Redis cannot be reached at the start for this long (default 30 s); once started, the sweep waits out outages */
  connectSeconds?: number;
  /** how often every unfinished trial's job is checked, besides the queue's events (default 2 s) */
  pollSeconds?: number;
}

/** Per-trial costs of going through the queue, in seconds. */
export interface QueueOverhead {
  /** enqueued, or a worker slot free (whichever came later) -> the worker started it */
  enqueueToStart: number[];
  /** the worker finished it -> its result committed to the store */
  endToStored: number[];
}

export interface QueuedSweepSummary extends SweepSummary {
  queue: { url: string; overhead: QueueOverhead; reenqueued: number };
}

/**
 * Close the connections, waiting at most 2 s: where Redis does not answer, a graceful close would
 * wait for it for ever (the process exits after the sweep anyway).
 */
async function shut(...conns: Array<Queue | QueueEvents>): Promise<void> {
  await Promise.race([Promise.all(conns.map((c) => c.close().catch(() => {}))), sleep(2000)]);
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `selfsup sweep SPEC --queue URL`: plan and validate as the local runner does, enqueue one job per
 * unfinished trial (job id = config hash: a rerun never enqueues a duplicate), follow the workers
 * through the queue's events, and commit each result to the sweep's store, the only writer. A result
 * stays in Redis until it is committed, so a coordinator killed and started again with the same
 * command re-attaches: it collects what finished meanwhile and enqueues nothing twice. Every
 * unfinished trial's job is also checked every few seconds, so a missed event (an outage) delays a
 * result but never loses it, and a job the queue lost (Redis restarted empty) is enqueued again:
 * with shared artifacts it resumes from its checkpoint.
 */
export async function runQueuedSweep(plan: SweepPlan, opts: QueuedSweepOptions): Promise<QueuedSweepSummary> {
  const t0 = performance.now();
  const say = opts.say ?? ((l: string) => process.stderr.write(`${l}\n`));
  const target = parseQueueUrl(opts.queue);
  const session = openSweep(plan, opts.outDir, opts.retryFailed);
  const { store, failedBefore } = session;
  const emit = (e: SweepEvent) => opts.onEvent?.(e);
  const watch = new ConnectionWatch(target, say, 'coordinator');
  const queue = new Queue<TrialJobData, TrialJobResult>(QUEUE_NAME, { connection: target.connection });
  const events = new QueueEvents(QUEUE_NAME, { connection: target.connection });
  queue.on('error', watch.failed);
  events.on('error', watch.failed);
  let stopping = false;
  const keepSignals = exitOnSignal(session, (sig) => {
    stopping = true;
    say(`\nstopped following the sweep (${sig}); the workers go on, and results wait in Redis: run the same command again to collect them`);
  });
  try {
    const byHash = new Map(session.todo.map((t) => [t.hash, t]));
    const outstanding = new Set(byHash.keys());

    const connectMs = (opts.connectSeconds ?? 30) * 1000;
    const ready = Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    const timedOut = await Promise.race([ready.then(() => false), sleep(connectMs).then(() => true)]);
    if (timedOut)
      throw new EnvironmentError(
        `cannot reach Redis at ${target.redacted} (${watch.down ? 'still unreachable' : 'no answer'} after ${connectMs / 1000} s): start it (redis-server) or check --queue; nothing was enqueued`,
      );
    watch.ok();
    const workerCount = async () => (await queue.getWorkers().catch(() => [])).length;
    emit({
      type: 'start',
      name: plan.name,
      total: plan.trials.length,
      todo: byHash.size,
      finished: plan.trials.length - byHash.size,
      workers: await workerCount(),
    });

    const jobOpts = (hash: string) => ({
      jobId: hash,
      attempts: opts.attempts ?? 2,
      backoff: { type: 'exponential' as const, delay: 2000 },
      removeOnComplete: false,
      removeOnFail: false,
    });
    const jobData = (t: PlannedTrial, fresh: boolean): TrialJobData => ({
      sweep: plan.name,
      index: t.index,
      label: t.label,
      hash: t.hash,
      config: t.config,
      ...(fresh ? { fresh } : {}),
    });

    const overhead: QueueOverhead = { enqueueToStart: [], endToStored: [] };
    const running = new Map<string, string>();
    const slotsSeen = new Set<string>();
    let done = 0;
    let failed = 0;
    let reenqueued = 0;
    const collecting = new Set<string>();

    /** Store a finished job's result (once), then remove the job from Redis. */
    const collect = async (job: Job<TrialJobData, TrialJobResult>, state: 'completed' | 'failed') => {
      const hash = job.id!;
      if (!outstanding.has(hash) || collecting.has(hash)) return;
      collecting.add(hash);
      try {
        const trial = byHash.get(hash)!;
        const worker = running.get(hash) ?? job.returnvalue?.worker ?? '?';
        if (state === 'completed') slotsSeen.add(job.returnvalue.worker);
        if (state === 'completed') {
          const r = job.returnvalue;
          store.commitDone(hash, r.outcome, { attempts: job.attemptsStarted, host: r.worker });
          overhead.endToStored.push((Date.now() - (job.finishedOn ?? r.endedAt)) / 1000);
          overhead.enqueueToStart.push(r.startLatencyMs / 1000);
          done++;
          emit({
            type: 'trial-end',
            worker,
            trial,
            status: 'done',
            seconds: (r.endedAt - r.startedAt) / 1000,
            outcome: r.outcome,
            resumedFrom: r.resumedFrom,
            attempts: job.attemptsStarted,
          });
        } else {
          const seconds = job.processedOn && job.finishedOn ? (job.finishedOn - job.processedOn) / 1000 : 0;
          store.commitFailed(hash, job.failedReason || 'failed in the queue', seconds, { attempts: job.attemptsStarted });
          failed++;
          emit({ type: 'trial-end', worker, trial, status: 'failed', seconds, error: job.failedReason, attempts: job.attemptsStarted });
        }
        outstanding.delete(hash);
        running.delete(hash);
        // committed: the copy in Redis is no longer needed (a failure to remove it is harmless: the next run finds the trial stored)
        await job.remove().catch(() => {});
      } finally {
        collecting.delete(hash);
      }
    };

    const check = trialCheck({
      queue,
      outstanding,
      failedBefore,
      collect,
      enqueue: async (hash, { again, fresh }) => {
        const trial = byHash.get(hash)!;
        if (again) {
          reenqueued++;
          say(
            `trial ${trial.index} ${trial.label} (${hash}) was not in the queue (Redis restarted or lost it): enqueued again; with shared artifacts it resumes from its checkpoint`,
          );
        }
        await queue.add(trial.label, jobData(trial, fresh), jobOpts(hash));
      },
    });

    events.on('progress', ({ jobId, data }) => {
      const trial = byHash.get(jobId);
      const p = data as TrialJobProgress;
      if (!trial || !outstanding.has(jobId) || typeof p !== 'object' || !p.worker) return;
      if (running.get(jobId) !== p.worker) {
        running.set(jobId, p.worker);
        slotsSeen.add(p.worker);
        store.markRunning(jobId, null, p.worker);
        emit({ type: 'trial-start', worker: p.worker, trial });
      }
      if (p.totalSteps) emit({ type: 'trial-progress', worker: p.worker, trial, step: p.step, totalSteps: p.totalSteps, loss: p.loss });
    });
    const onFinished = (jobId: string) => {
      if (!outstanding.has(jobId)) return;
      void check(jobId, false).then(watch.ok, watch.failed);
    };
    events.on('completed', ({ jobId }) => onFinished(jobId));
    events.on('failed', ({ jobId }) => onFinished(jobId));

    for (const hash of [...outstanding]) await check(hash, true);
    const pollMs = (opts.pollSeconds ?? 2) * 1000;
    while (outstanding.size && !stopping) {
      await sleep(pollMs);
      try {
        for (const hash of [...outstanding]) await check(hash, false);
        watch.ok();
      } catch (e) {
        watch.failed(e);
      }
    }
    // a trial stored meanwhile may have been delivered twice (the queue lost it and it was enqueued
    // again; a coordinator killed between commit and removal): its extra copy is not stored again, only removed
    for (const t of plan.trials) {
      const job = outstanding.has(t.hash) ? undefined : await queue.getJob(t.hash).catch(() => undefined);
      const state = job ? await job.getState().catch(() => 'unknown') : 'unknown';
      if (job && (state === 'completed' || state === 'failed')) await job.remove().catch(() => {});
    }
    await shut(events, queue);
    const summary: QueuedSweepSummary = {
      ...(await closeSweep(plan, opts.outDir, session, { started: t0, done, failed, workers: slotsSeen.size })),
      queue: { url: target.redacted, overhead, reenqueued },
    };
    emit({ type: 'end', summary });
    if (overhead.endToStored.length)
      say(
        `queue overhead per trial (median): enqueue to start ${median(overhead.enqueueToStart).toFixed(2)} s, end to stored ${median(overhead.endToStored).toFixed(3)} s`,
      );
    return summary;
  } finally {
    keepSignals();
    await shut(events, queue);
    releaseSweep(session);
  }
}
