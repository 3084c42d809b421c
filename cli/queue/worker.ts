import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { isAlive } from '../../core/util/lock.js';
import { makeDirs } from '../../core/util/make-dirs.js';
import { asEnvironmentError } from '../../core/index.js';
import { trialProcessEnv } from '../sweep/runner.js';
import { TrialProcess } from '../sweep/trial-process.js';
import { ConnectionWatch, QUEUE_NAME, parseQueueUrl } from './connection.js';
import type { TrialJobData, TrialJobProgress, TrialJobResult } from './job.js';

export interface QueueWorkerOptions {
  /** `redis://…` or `rediss://…` */
  queue: string;
  /** trials trained at once, each in its own process (default 1); the cores are shared out among them */
  concurrency?: number;
  /** train every trial on this backend instead of its config's */
  backend?: string;
  /**
   * where trials train (`<artifacts>/<hash>/`: checkpoint, train.log, metrics); on storage the
   * workers share, a trial retried on another machine resumes from its last checkpoint
   */
  artifacts: string;
  /** a worker that has not renewed a job's lock for this long is stalled, and its trial retried (default 30 s) */
  lockSeconds?: number;
  /** how many times a trial may be orphaned by a dead worker before it is failed (default 2) */
  maxStalled?: number;
  /** progress lines (stderr) */
  say?: (line: string) => void;
  /** the trial process module (tests) */
  trialScript?: string;
}

export interface QueueWorkerHandle {
  /** `host/pid` */
  id: string;
  /** stop taking trials; with `now`, kill the running ones too (they are retried elsewhere after stall detection) */
  close(now?: boolean): Promise<void>;
  /** resolves when the worker has closed */
  closed: Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Wait while a live process on this machine holds the trial directory's run lock: the same trial
 * enqueued again (the queue lost it, Redis restarted) while its first run goes on. When that run
 * ends, this one resumes from its checkpoint.
 */
async function waitForRunLock(dir: string, say: (l: string) => void, hash: string): Promise<void> {
  const lock = path.join(dir, 'run.lock');
  for (let waited = 0; ; waited++) {
    let pid = 0;
    try {
      pid = Number(fs.readFileSync(lock, 'utf8'));
    } catch {
      return;
    }
    if (!(pid > 0 && isAlive(pid))) return;
    if (waited === 0) say(`trial ${hash}: another process (pid ${pid}) is training it here; waiting for it to end`);
    await sleep(1000);
  }
}

/**
 * `selfsup worker`: take trials off the queue and train each in a sandboxed child process (the
 * trial process of local sweeps), so the event loop that renews the job's lock is never blocked by
 * training. Steps are reported with `job.updateProgress`; the trial's metrics, backend, host and
 * timings are the job's return value. A training error (NaN loss, bad data, a bad config) fails the
 * job without retries; a process that died, or a machine that refused, is retried with backoff.
 */
export async function startQueueWorker(opts: QueueWorkerOptions): Promise<QueueWorkerHandle> {
  const say = opts.say ?? ((l: string) => process.stderr.write(`${l}\n`));
  const target = parseQueueUrl(opts.queue);
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const host = os.hostname();
  const id = `${host}/${process.pid}`;
  const artifacts = path.resolve(opts.artifacts);
  try {
    makeDirs(artifacts);
  } catch (e) {
    throw asEnvironmentError(e, 'make the artifacts directory', artifacts);
  }
  const logDir = path.join(artifacts, 'workers');
  fs.mkdirSync(logDir, { recursive: true });
  const env = trialProcessEnv(concurrency);
  const idle: Array<{ slot: number; proc: TrialProcess; freeSince: number }> = [];
  const all: TrialProcess[] = [];
  for (let slot = 1; slot <= concurrency; slot++) {
    const proc = new TrialProcess(path.join(logDir, `${host}-${process.pid}-${slot}.log`), { ...env, SELFSUP_SWEEP_WORKER: `${id}#${slot}` }, opts.trialScript);
    idle.push({ slot, proc, freeSince: Date.now() });
    all.push(proc);
  }
  const watch = new ConnectionWatch(target, say, 'worker');

  const processor = async (job: Job<TrialJobData, TrialJobResult>): Promise<TrialJobResult> => {
    const { slot, proc, freeSince } = idle.shift()!;
    const worker = `${id}#${slot}`;
    const startedAt = Date.now();
    const startLatencyMs = startedAt - Math.max(job.timestamp, freeSince);
    const d = job.data;
    const report = (p: Omit<TrialJobProgress, 'worker'>) =>
      job.updateProgress({ worker, ...p } satisfies TrialJobProgress).then(watch.ok, () => {
        // Redis is away: the next report will do
      });
    try {
      say(`[${worker}] ${d.sweep} trial ${d.index} ${d.label} (${d.hash}): started (attempt ${job.attemptsStarted})`);
      await report({ step: 0, totalSteps: 0, loss: NaN });
      const outDir = path.join(artifacts, d.hash);
      await waitForRunLock(outDir, say, d.hash);
      const config = opts.backend ? { ...d.config, backend: opts.backend } : d.config;
      let last = 0;
      const r = await proc.run({ type: 'run', hash: d.hash, config, outDir, fresh: d.fresh && job.attemptsStarted <= 1 }, (p) => {
        const now = performance.now();
        if (now - last < 1000 && p.step < p.totalSteps) return;
        last = now;
        void report({ step: p.step, totalSteps: p.totalSteps, loss: p.loss });
      });
      if (!r.ok) {
        say(`[${worker}] trial ${d.index} (${d.hash}): failed: ${r.error}${r.retryable ? ' (will be retried)' : ''}`);
        throw r.retryable ? new Error(r.error) : new UnrecoverableError(r.error);
      }
      say(
        `[${worker}] trial ${d.index} (${d.hash}): done in ${((Date.now() - startedAt) / 1000).toFixed(1)} s${r.resumedFrom ? `, resumed from step ${r.resumedFrom}` : ''}`,
      );
      return { outcome: r.outcome, worker, host, resumedFrom: r.resumedFrom, startedAt, endedAt: Date.now(), startLatencyMs };
    } finally {
      idle.push({ slot, proc, freeSince: Date.now() });
    }
  };

  const lockDuration = Math.round((opts.lockSeconds ?? 30) * 1000);
  const w = new Worker<TrialJobData, TrialJobResult>(QUEUE_NAME, processor, {
    connection: target.connection,
    concurrency,
    lockDuration,
    stalledInterval: lockDuration,
    maxStalledCount: opts.maxStalled ?? 2,
    autorun: false,
  });
  w.on('error', watch.failed);
  w.on('ready', watch.ok);
  let closing: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  void w.run().catch((e) => say(`worker stopped: ${watch.reason(e)}`));
  await w.waitUntilReady();
  watch.ok();
  say(
    `worker ${id}: ${concurrency} trial process${concurrency === 1 ? '' : 'es'} (${env.SELFSUP_THREADS} thread${env.SELFSUP_THREADS === '1' ? '' : 's'} each) on ${target.redacted}, artifacts in ${artifacts}`,
  );
  return {
    id,
    closed,
    close(now = false) {
      if (now) for (const p of all) p.kill();
      closing ??= w
        .close(now)
        .catch(() => {})
        .then(() => {
          for (const p of all) p.close();
          resolveClosed();
        });
      return closing;
    },
  };
}
