/**
 * Sweeps through the queue (issue 16): a sweep (default: the shipped projection-head, 9 trials) on
 * `--workers` `selfsup worker` processes through Redis (BullMQ) on this machine, and the same sweep
 * on the local runner with as many worker processes. Wall time, trials per hour, the queue's
 * overhead per trial (enqueue or free slot -> start; end -> stored), and Redis memory per job
 * (waiting: its payload; completed: with its result), measured with MEMORY USAGE and INFO memory.
 * Starts its own redis-server (Debian's) on a free loopback port.
 *
 *   node dist/bench/queue-sweep.js [--spec projection-head] [--workers 3] [--skip-local] [--local-first] [--json]
 *
 * Each worker process trains with SELFSUP_THREADS = cores / workers, as the local runner's do. The
 * queue runs first unless --local-first (run it both ways to see what the order does on a machine).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { markdownTable, median } from '../cli/api.js';
import { QUEUE_NAME } from '../cli/queue/connection.js';
import type { TrialJobResult } from '../cli/queue/job.js';
import { SweepStore } from '../cli/sweep-api.js';
import { TestRedis } from '../test/redis-server.js';
import { benchArgs, log } from './common.js';

const a = benchArgs({
  spec: { type: 'string', default: 'projection-head' },
  workers: { type: 'string', default: '3' },
  'skip-local': { type: 'boolean', default: false },
  'local-first': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
});
const BIN = path.resolve('dist/cli/main.js');
const nWorkers = Number(a.workers);
const threads = String(Math.max(1, Math.floor(os.availableParallelism() / nWorkers)));
const env = { ...process.env, SELFSUP_THREADS: threads, SELFSUP_WASM_THREADS: threads };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmp = (what: string) => fs.mkdtempSync(path.join(os.tmpdir(), `selfsup-qbench-${what}-`));

/** Run the bin; its stderr (the live progress) passes through; resolves with stdout's last line parsed. */
function run(args: string[]): { done: Promise<Record<string, any>>; kill: (sig: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const done = new Promise<Record<string, any>>((resolve, reject) =>
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`selfsup ${args.join(' ')} exited ${code}: ${out.slice(-500)}`));
      }
    }),
  );
  return { done, kill: (sig) => child.kill(sig) };
}

/**
 * A key's bytes, every field counted: MEMORY USAGE's default samples 5 fields of a hash and
 * extrapolates, which is off by several times for a job (one big field, its data, beside ten small).
 */
const keyBytes = async (r: Redis, key: string) => (await r.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number;

/** MEMORY USAGE summed over every key of the queue (its jobs, lists, sorted sets, events stream). */
async function queueKeysBytes(r: Redis): Promise<number> {
  let total = 0;
  for (const key of await r.keys(`bull:${QUEUE_NAME}:*`)) total += await keyBytes(r, key);
  return total;
}

const fmt = (s: number) => (s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`);

const redis = await TestRedis.start();
try {
  // 1. memory per waiting job: a coordinator with no worker enqueues every trial (database 1)
  const memUrl = redis.url(1);
  const mem = new Redis(memUrl, { maxRetriesPerRequest: null });
  const waiting = run(['sweep', a.spec!, '--queue', memUrl, '--out', tmp('mem'), '--json']);
  const q1 = new Queue(QUEUE_NAME, { connection: mem });
  let jobs: Awaited<ReturnType<typeof q1.getJobs>> = [];
  for (let i = 0; i < 600; i++) {
    jobs = await q1.getJobs(['waiting']);
    if (jobs.length && jobs.length === (await q1.getJobCounts('waiting')).waiting && i > 20) break;
    await sleep(100);
  }
  const perWaiting = await Promise.all(jobs.map((j) => keyBytes(mem, `bull:${QUEUE_NAME}:${j.id}`)));
  const enqueuedBytes = (await queueKeysBytes(mem)) / jobs.length;
  waiting.kill('SIGINT');
  await waiting.done.catch(() => {});
  log(`${jobs.length} waiting jobs: MEMORY USAGE median ${median(perWaiting)} bytes; all the queue's keys ${enqueuedBytes.toFixed(0)} bytes per job`);

  // the same sweep on the local runner (before or after the queue's)
  const runLocal = async () =>
    a['skip-local']
      ? undefined
      : (log(`the local runner, ${nWorkers} workers:`), await run(['sweep', a.spec!, '--workers', String(nWorkers), '--out', tmp('local'), '--json']).done);
  const localFirst = a['local-first'] ? await runLocal() : undefined;

  // 2. the sweep through the queue: workers first (ready), then the coordinator, timed
  const art = tmp('art');
  const url = redis.url(0);
  const workers = Array.from({ length: nWorkers }, () =>
    spawn(process.execPath, [BIN, 'worker', '--queue', url, '--artifacts', art], { env, stdio: ['ignore', 'ignore', 'pipe'] }),
  );
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          let err = '';
          w.stderr!.on('data', (d) => {
            err += d;
            if (err.includes('artifacts in')) resolve();
          });
        }),
    ),
  );
  log(`${nWorkers} workers ready (${threads} thread(s) each); the sweep through Redis:`);
  const queued = await run(['sweep', a.spec!, '--queue', url, '--out', tmp('queue'), '--json']).done;
  await Promise.all(workers.map((w) => new Promise((resolve) => (w.once('exit', resolve), w.kill('SIGTERM')))));

  // 3. memory per completed job: a trial's job completed with its real result, as it waits for the coordinator
  const store = new SweepStore(queued.outDir);
  const [trial] = store.trials();
  const outcome = {
    backend: trial.backend!,
    steps: trial.steps!,
    seconds: trial.seconds!,
    trainSeconds: trial.trainSeconds!,
    final: store.finalMetrics().get(trial.hash)!,
    history: store.epochMetrics().get(trial.hash)!,
  };
  store.close();
  const q2 = new Queue(QUEUE_NAME, { connection: mem });
  await q2.obliterate({ force: true });
  await q2.add(
    trial.label,
    { sweep: 'bench', index: 0, label: trial.label, hash: trial.hash, config: trial.config as any },
    { jobId: trial.hash, removeOnComplete: false },
  );
  const result: TrialJobResult = {
    outcome,
    worker: `${os.hostname()}/1#1`,
    host: os.hostname(),
    resumedFrom: 0,
    startedAt: Date.now(),
    endedAt: Date.now(),
    startLatencyMs: 0,
  };
  const fakeConnection = new Redis(memUrl, { maxRetriesPerRequest: null });
  const fake = new Worker(QUEUE_NAME, async () => result, { connection: fakeConnection });
  for (let i = 0; i < 100 && (await (await q2.getJob(trial.hash))?.getState()) !== 'completed'; i++) await sleep(50);
  const completedBytes = await keyBytes(mem, `bull:${QUEUE_NAME}:${trial.hash}`);
  await fake.close();
  await q1.close();
  await q2.close();
  // connections passed in are the caller's to close (BullMQ closes only its own)
  fakeConnection.disconnect();
  mem.disconnect();

  const local = a['local-first'] ? localFirst : await runLocal();

  const row = (name: string, s: Record<string, any>) => [name, s.done + s.failed, s.failed, `${s.seconds.toFixed(1)} s`, s.trialsPerHour.toFixed(1)];
  const rows = [row(`queue (BullMQ, ${nWorkers} workers)`, queued), ...(local ? [row(`local (${nWorkers} workers)`, local)] : [])];
  const o = queued.queue.overhead as { enqueueToStart: number[]; endToStored: number[] };
  const md = [
    `sweep ${a.spec}, ${os.cpus()[0].model}, ${os.availableParallelism()} cores, ${a['local-first'] ? 'local runner first' : 'queue first'}`,
    markdownTable(['runner', 'trials', 'failed', 'wall', 'trials/hour'], rows),
    markdownTable(
      ['queue overhead per trial', 'median', 'max'],
      [
        ['enqueued or slot free -> started', fmt(median(o.enqueueToStart)), fmt(Math.max(...o.enqueueToStart))],
        ['ended -> stored', fmt(median(o.endToStored)), fmt(Math.max(...o.endToStored))],
      ],
    ),
    markdownTable(
      ['Redis memory per job', 'bytes'],
      [
        ['waiting (payload: the trial config), MEMORY USAGE median', median(perWaiting)],
        ["waiting, with the queue's lists, sets and events (all its keys / jobs)", enqueuedBytes.toFixed(0)],
        ['completed (with its result: final and per-epoch metrics), MEMORY USAGE', completedBytes],
      ],
    ),
  ].join('\n\n');
  process.stdout.write(`${md}\n`);
  if (a.json) process.stdout.write(JSON.stringify({ queued, local, memory: { waiting: perWaiting, enqueuedBytes, completedBytes } }) + '\n');
} finally {
  await redis.stop();
}
