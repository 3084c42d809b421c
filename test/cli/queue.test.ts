import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { builtinPresets, createRegistry } from '../../cli/api.js';
import { planSweep } from '../../cli/sweep-api.js';
import { afterAll, describe, expect, it } from 'vitest';
import { QUEUE_NAME } from '../../cli/queue/connection.js';
import { TestRedis, freePort, redisTest, sharedRedis, type RedisEndpoint } from '../redis.js';
import { doneCount, readStore } from '../sweep-store.js';
import { isAlive } from '../../core/util/lock.js';

// Sweeps through BullMQ on a real Redis, as users run them: the built bin, a coordinator
// (`selfsup sweep --queue`) and `selfsup worker` processes, killed and restarted as machines are.
const BIN = path.resolve('dist/cli/main.js');
const HEADS = path.resolve('test/fixtures/sweep/heads.json');
const KILL = path.resolve('test/fixtures/sweep/queue-kill.json');
const tmp = (what = 'queue') => fs.mkdtempSync(path.join(os.tmpdir(), `selfsup-${what}-`));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// several processes share 2 cores: one thread each
const ENV = { ...process.env, SELFSUP_THREADS: '1', SELFSUP_WASM_THREADS: '1' };

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** A process of the bin; `done` resolves with its exit code and output. */
function bin(args: string[], opts: { prefix?: string[]; env?: NodeJS.ProcessEnv } = {}): { child: ChildProcess; done: Promise<Run>; err: () => string } {
  const [cmd, ...rest] = opts.prefix ?? [];
  const env = opts.env ?? ENV;
  const child = cmd ? spawn(cmd, [...rest, process.execPath, BIN, ...args], { env }) : spawn(process.execPath, [BIN, ...args], { env });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<Run>((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
  return { child, done, err: () => err };
}

const workers: ChildProcess[] = [];
/** A `selfsup worker` on `url` with a short lock (a dead worker's trial is retried within seconds). */
function worker(url: string, artifacts: string, prefix?: string[]) {
  const w = bin(['worker', '--queue', url, '--artifacts', artifacts, '--lock-seconds', '2'], { prefix });
  workers.push(w.child);
  return w;
}
afterAll(() => {
  for (const w of workers) w.kill('SIGKILL');
});

const sweep = (spec: string, dir: string, url: string, ...extra: string[]) => bin(['sweep', spec, '--queue', url, '--out', dir, '--json', ...extra]);
const summaryOf = (r: Run) => JSON.parse(r.out.trim().split('\n').pop()!);

async function until(what: string, cond: () => boolean, seconds = 120): Promise<void> {
  for (let i = 0; i < seconds * 10; i++) {
    if (cond()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface KillStats {
  kill: string;
  trials: number;
  lost: number;
  storedTwice: number;
  retried: number;
  resumed: number;
  completedTwice: number;
}

/** The local runner's results for a spec (the reference every queue run must equal), computed once. */
const references = new Map<string, ReturnType<typeof readStore>>();
function localReference(spec: string) {
  if (!references.has(spec)) {
    const dir = tmp('local');
    const r = spawnSync(process.execPath, [BIN, 'sweep', spec, '--workers', '2', '--out', dir, '--json'], {
      encoding: 'utf8',
      env: { ...process.env, SELFSUP_THREADS: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    references.set(spec, readStore(dir));
  }
  return references.get(spec)!;
}

/** The queue as the test sees it (its own connection). */
const clients: Redis[] = [];
const queueOn = (url: string) => {
  const c = new Redis(url, { maxRetriesPerRequest: null });
  clients.push(c);
  return new Queue(QUEUE_NAME, { connection: c });
};
afterAll(() => {
  for (const c of clients) c.disconnect();
});

/** Jobs of the queue still in Redis (any state). */
async function jobsLeft(url: string): Promise<number> {
  const q = queueOn(url);
  const counts = await q.getJobCounts();
  await q.close();
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

describe('selfsup sweep --queue (BullMQ on Redis)', () => {
  const servers: TestRedis[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });
  const server = async (opts?: Parameters<typeof TestRedis.start>[0]) => {
    const s = await TestRedis.start(opts);
    servers.push(s);
    return s;
  };
  // one server for the tests that do not stop theirs, a database each
  let sharedServer: Promise<RedisEndpoint> | undefined;
  const shared = () => (sharedServer ??= sharedRedis(() => server()));

  redisTest('queue tests')(
    "3 workers give the local runner's results value for value; a rerun enqueues nothing; a trial delivered twice is stored once",
    async () => {
      const url = (await shared()).url(1);
      const art = tmp('art');
      for (let i = 0; i < 3; i++) worker(url, art);
      const dir = tmp();
      const a = await sweep(HEADS, dir, url).done;
      expect(a.code, a.err).toBe(0);
      const s = summaryOf(a);
      expect(s).toMatchObject({ total: 6, done: 6, failed: 0, skipped: 0, queue: { url: url, reenqueued: 0 } });
      expect(s.queue.overhead.endToStored).toHaveLength(6);
      const stored = readStore(dir);
      expect(stored.trials.every((t) => t.status === 'done' && t.attempts === 1 && /^[^/]+\/\d+#1$/.test(t.host ?? ''))).toBe(true);
      // several workers took part (not one worker doing everything)
      expect(new Set(stored.trials.map((t) => t.host)).size).toBeGreaterThan(1);
      expect(stored.metrics).toEqual(localReference(HEADS).metrics);
      // every result committed is removed from Redis
      expect(await jobsLeft(url)).toBe(0);

      // a rerun with the same command: everything stored, nothing enqueued
      const b = await sweep(HEADS, dir, url).done;
      expect(summaryOf(b)).toMatchObject({ total: 6, done: 0, skipped: 6 });

      // at least once: a trial delivered again after it was stored (its job enqueued and run a second
      // time, as after a coordinator killed between commit and removal) is one row, its metrics unchanged
      const hash = stored.trials[0].hash;
      const q = queueOn(url);
      const t = (await planSweep(HEADS, { registry: createRegistry(), presets: builtinPresets() })).trials.find((p) => p.hash === hash)!;
      await q.add('again', { sweep: 'heads', index: t.index, label: t.label, hash, config: t.config }, { jobId: hash, removeOnComplete: false });
      for (let i = 0; i < 600 && (await (await q.getJob(hash))?.getState()) !== 'completed'; i++) await sleep(100);
      expect(await (await q.getJob(hash))?.getState()).toBe('completed');
      await q.close();
      const c = await sweep(HEADS, dir, url).done;
      expect(summaryOf(c)).toMatchObject({ done: 0, skipped: 6 });
      const after = readStore(dir);
      expect(after.trials).toHaveLength(6);
      expect(after.metrics).toEqual(stored.metrics);
      // the extra copy was cleaned up, not stored
      expect(await jobsLeft(url)).toBe(0);
    },
  );

  // The kill matrix: each kill once in npm test; SELFSUP_QUEUE_KILLS=10 runs each 10 times and
  // writes the table of kills, trials lost and trials stored twice to bench/results/queue-kills.md.
  const ROUNDS = Number(process.env.SELFSUP_QUEUE_KILLS ?? 1);
  const matrix: KillStats[] = [];
  afterAll(() => {
    if (!process.env.SELFSUP_QUEUE_KILLS || !matrix.length) return;
    const kinds = [...new Set(matrix.map((m) => m.kill))];
    const sum = (k: string, f: (m: KillStats) => number) => matrix.filter((m) => m.kill === k).reduce((a, m) => a + f(m), 0);
    const table = [
      `| kill | kills tried | trials | trials lost | trials stored twice | trials retried | resumed from a checkpoint | ran to completion twice |`,
      `|---|---:|---:|---:|---:|---:|---:|---:|`,
      ...kinds.map(
        (k) =>
          `| ${k} | ${sum(k, () => 1)} | ${sum(k, (m) => m.trials)} | ${sum(k, (m) => m.lost)} | ${sum(k, (m) => m.storedTwice)} | ${sum(k, (m) => m.retried)} | ${sum(k, (m) => m.resumed)} | ${sum(k, (m) => m.completedTwice)} |`,
      ),
    ].join('\n');
    fs.mkdirSync('bench/results', { recursive: true });
    fs.writeFileSync(
      'bench/results/queue-kills.md',
      `# The queue's kill matrix\n\n${new Date().toISOString()}, ${os.cpus()[0].model}, \`SELFSUP_QUEUE_KILLS=${ROUNDS} npx vitest run test/cli/queue.test.ts\`\n\n${table}\n`,
    );
    console.log(table);
  });

  /** What a kill cost: trials not stored, stored twice (rows or metrics beyond one clean copy), retried, resumed, run to completion twice. */
  function killStats(kill: string, dir: string, ws: Array<{ err: () => string }>, art: string): KillStats {
    const s = readStore(dir);
    const ref = localReference(KILL);
    const rows = new Map<string, number>();
    for (const t of s.trials) rows.set(t.hash, (rows.get(t.hash) ?? 0) + 1);
    const finished = ws.flatMap((w) => [...w.err().matchAll(/\(([0-9a-f]{16})\): done/g)].map((m) => m[1]));
    return {
      kill,
      trials: ref.trials.length,
      lost: ref.trials.filter((t) => s.trials.find((x) => x.hash === t.hash)?.status !== 'done').length,
      storedTwice: [...rows.values()].filter((n) => n > 1).length + (s.metrics.length > ref.metrics.length ? 1 : 0),
      retried: s.trials.filter((t) => t.attempts > 1).length,
      resumed: s.trials.filter((t) => /resumed from/.test(fs.readFileSync(path.join(art, t.hash, 'train.log'), 'utf8'))).length,
      completedTwice: new Set(finished.filter((h, i) => finished.indexOf(h) !== i)).size,
    };
  }

  /** Kill a worker (SIGKILL) while a trial it runs is 2 epochs in; the other worker must take it over. */
  async function workerKill(db: number) {
    const url = (await shared()).url(db);
    const art = tmp('art');
    const w1 = worker(url, art);
    const w2 = worker(url, art);
    const dir = tmp();
    const co = sweep(KILL, dir, url);
    // a trial with a checkpoint (2 epochs in) still training: its process holds run.lock; its parent is the worker
    let victim: { hash: string; trialPid: number; workerPid: number } | undefined;
    await until('a trial 2 epochs in', () => {
      for (const hash of fs.existsSync(art) ? fs.readdirSync(art) : []) {
        try {
          const step = JSON.parse(fs.readFileSync(path.join(art, hash, 'checkpoint.json'), 'utf8')).step as number;
          const trialPid = Number(fs.readFileSync(path.join(art, hash, 'run.lock'), 'utf8'));
          const workerPid = Number(fs.readFileSync(`/proc/${trialPid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
          if (step >= 8 && step < 36 && [w1.child.pid, w2.child.pid].includes(workerPid)) victim = { hash, trialPid, workerPid };
        } catch {
          // not started, or finished
        }
      }
      return victim !== undefined;
    });
    process.kill(victim!.workerPid, 'SIGKILL');
    // its trial process does not train on as an orphan
    await until('the trial process to exit', () => !isAlive(victim!.trialPid), 10);
    const r = await co.done;
    const survivor = victim!.workerPid === w1.child.pid ? w2 : w1;
    survivor.child.kill('SIGKILL');
    return { r, dir, art, victim: victim!, survivor, stats: killStats('a worker (SIGKILL) mid-trial', dir, [w1, w2], art) };
  }

  redisTest('queue tests')(
    'a worker killed mid-trial (SIGKILL): the trial is retried on another worker after stall detection, resumes from its checkpoint, and is stored once',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const { r, dir, art, victim, survivor, stats } = await workerKill(2);
        matrix.push(stats);
        expect(r.code, r.err).toBe(0);
        const s = readStore(dir);
        expect(s.trials.map((t) => t.status)).toEqual(['done', 'done', 'done']);
        const killed = s.trials.find((t) => t.hash === victim.hash)!;
        expect(killed.attempts).toBe(2);
        expect(killed.host).toContain(`/${survivor.child.pid}#`);
        expect(s.trials.filter((t) => t.hash !== victim.hash).every((t) => t.attempts === 1)).toBe(true);
        expect(fs.readFileSync(path.join(art, victim.hash, 'train.log'), 'utf8')).toMatch(/resumed from .* at step \d+/);
        expect(survivor.err()).toMatch(new RegExp(`\\(${victim.hash}\\): done in [\\d.]+ s, resumed from step \\d+`));
        // exact resume: the same metrics as trials never interrupted, stored once
        expect(s.metrics).toEqual(localReference(KILL).metrics);
        expect(stats).toMatchObject({ lost: 0, storedTwice: 0, retried: 1, completedTwice: 0 });
      }
    },
    ROUNDS * 120_000,
  );

  /** Kill the coordinator (SIGKILL) once a trial is stored, let the workers go on, then run it again. */
  async function coordinatorKill(db: number) {
    const url = (await shared()).url(db);
    const art = tmp('art');
    const ws = [worker(url, art), worker(url, art)];
    const dir = tmp();
    const first = sweep(KILL, dir, url);
    await until('one trial stored', () => doneCount(dir) >= 1);
    first.child.kill('SIGKILL');
    await first.done;
    const storedBefore = doneCount(dir);
    // the workers go on without it; some results wait in Redis
    await sleep(1500);
    const again = await sweep(KILL, dir, url).done;
    for (const w of ws) w.child.kill('SIGKILL');
    return { again, dir, url, ws, storedBefore, stats: killStats('the coordinator (SIGKILL) mid-sweep', dir, ws, art) };
  }

  redisTest('queue tests')(
    'the coordinator killed mid-sweep (SIGKILL): the rerun re-attaches, no trial runs twice, every result is stored',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const { again, dir, url, ws, storedBefore, stats } = await coordinatorKill(3);
        matrix.push(stats);
        expect(storedBefore).toBeLessThan(3);
        expect(again.code, again.err).toBe(0);
        const s = readStore(dir);
        expect(s.trials.map((t) => [t.status, t.attempts])).toEqual([
          ['done', 1],
          ['done', 1],
          ['done', 1],
        ]);
        // each trial ran to completion once, across all workers
        const finished = ws.flatMap((w) => [...w.err().matchAll(/\(([0-9a-f]{16})\): done/g)].map((m) => m[1]));
        expect(finished.sort()).toEqual(s.trials.map((t) => t.hash).sort());
        expect(s.metrics).toEqual(localReference(KILL).metrics);
        expect(await jobsLeft(url)).toBe(0);
        expect(stats).toMatchObject({ lost: 0, storedTwice: 0, completedTwice: 0 });
      }
    },
    ROUNDS * 120_000,
  );

  /** Stop Redis (SIGKILL: its data, all in memory, is lost) once a trial is stored; start it again 1.5 s later. */
  async function redisRestart() {
    const own = await server();
    const url = own.url(0);
    const art = tmp('art');
    const ws = [worker(url, art), worker(url, art)];
    const dir = tmp();
    const co = sweep(KILL, dir, url);
    await until('one trial stored', () => doneCount(dir) >= 1);
    await own.stop();
    await sleep(1500);
    await own.start();
    const r = await co.done;
    const workersLived = ws.every((w) => w.child.exitCode === null);
    for (const w of ws) w.child.kill('SIGKILL');
    await own.stop();
    return { r, dir, own, workersLived, stats: killStats('Redis (SIGKILL, restarted empty) mid-sweep', dir, ws, art) };
  }

  redisTest('queue tests')(
    'Redis restarted mid-sweep (empty: no persistence): workers and coordinator reconnect, lost jobs are enqueued again and resume, the sweep completes',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const { r, dir, own, workersLived, stats } = await redisRestart();
        matrix.push(stats);
        expect(r.code, r.err).toBe(0);
        expect(r.err).toContain(`Redis at redis://127.0.0.1:${own.port}/0 is unreachable`);
        expect(r.err).toContain(`Redis at redis://127.0.0.1:${own.port}/0 is reachable again`);
        expect(summaryOf(r).queue.reenqueued).toBeGreaterThan(0);
        const s = readStore(dir);
        expect(s.trials.map((t) => t.status)).toEqual(['done', 'done', 'done']);
        expect(s.metrics).toEqual(localReference(KILL).metrics);
        // the workers lived through it
        expect(workersLived).toBe(true);
        expect(stats).toMatchObject({ lost: 0, storedTwice: 0 });
      }
    },
    ROUNDS * 120_000,
  );

  redisTest('queue tests')(
    'a training error (NaN loss) is recorded failed without retries and the others finish; an unreachable Redis is a sentence naming the URL',
    async () => {
      const redis = await shared();
      const url = redis.url(4);
      const art = tmp('art');
      worker(url, art);
      const spec = path.join(tmp(), 'nan.json');
      fs.writeFileSync(
        spec,
        JSON.stringify({ extends: path.resolve('test/fixtures/sweep/tiny-simclr.json'), grid: { 'loss.temperature': [0.5, 1e-30] }, seeds: [0] }),
      );
      const dir = tmp();
      const r = await sweep(spec, dir, url, '--attempts', '3').done;
      expect(r.code).toBe(3);
      const s = readStore(dir);
      expect(s.trials.map((t) => [t.status, t.attempts])).toEqual([
        ['done', 1],
        ['failed', 1],
      ]);
      expect(s.trials[1].error).toMatch(/loss became NaN/);
      // --retry-failed runs it again, from the start, and only it
      const again = await sweep(spec, dir, url, '--retry-failed').done;
      expect(again.code).toBe(3);
      expect(summaryOf(again)).toMatchObject({ total: 2, done: 0, failed: 1, skipped: 1 });

      const port = await freePort();
      const down = await sweep(HEADS, tmp(), `redis://127.0.0.1:${port}/0`, '--connect-seconds', '2').done;
      expect(down.code).toBe(5);
      expect(down.err).toContain(`Redis at redis://127.0.0.1:${port}/0 is unreachable (ECONNREFUSED)`);
      expect(down.err).toContain(`cannot reach Redis at redis://127.0.0.1:${port}/0`);
    },
  );

  redisTest('queue tests')('a password-protected Redis, also over TLS (rediss://): the password reaches no store, report, log or job payload', async () => {
    const secret = 'pw-S3cret-4f9a';
    const own = await server({ password: secret });
    const url = own.url(0);
    const art = tmp('art');
    const spec = path.join(tmp(), 'one.json');
    fs.writeFileSync(spec, JSON.stringify({ extends: path.resolve('test/fixtures/sweep/tiny-simclr.json'), set: { 'train.epochs': 1 }, seeds: [0] }));
    const dir = tmp();
    const co = sweep(spec, dir, url);
    // the job as it waits in Redis, before any worker: every field of its hash
    const q = queueOn(url);
    let payload = '';
    for (let i = 0; i < 300 && !payload; i++) {
      const [job] = await q.getJobs(['waiting']);
      if (job) payload = JSON.stringify(job.asJSON());
      else await sleep(100);
    }
    await q.close();
    expect(JSON.parse(JSON.parse(payload).data).sweep).toBe('one');
    expect(payload).not.toContain(secret);
    const w = worker(url, art);
    const r = await co.done;
    expect(r.code, r.err).toBe(0);
    const files = (d: string): string[] =>
      fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(d, e.name)) : [path.join(d, e.name)]));
    const written = [...files(dir), ...files(art)];
    expect(written.some((f) => f.endsWith('sweep.db'))).toBe(true);
    for (const f of written) expect(fs.readFileSync(f).includes(secret), f).toBe(false);
    expect(r.out + r.err + w.err()).not.toContain(secret);
    expect(w.err()).toContain(`on redis://127.0.0.1:${own.port}/0`);

    // the same over TLS (rediss://), the server's certificate signed by a private CA the processes trust
    const secure = await server({ password: secret, tls: true });
    const surl = secure.url(0);
    const tlsEnv = { ...ENV, NODE_EXTRA_CA_CERTS: secure.caFile };
    const tw = bin(['worker', '--queue', surl, '--artifacts', art, '--lock-seconds', '2'], { env: tlsEnv });
    workers.push(tw.child);
    const sdir = tmp();
    const tr = await bin(['sweep', spec, '--queue', surl, '--out', sdir, '--json'], { env: tlsEnv }).done;
    expect(tr.code, tr.err).toBe(0);
    expect(summaryOf(tr)).toMatchObject({ done: 1, queue: { url: `rediss://127.0.0.1:${secure.port}/0` } });
    expect(readStore(sdir).metrics).toEqual(readStore(dir).metrics);
    for (const f of [...files(sdir), ...files(art)]) expect(fs.readFileSync(f).includes(secret), f).toBe(false);
    expect(tr.out + tr.err + tw.err()).not.toContain(secret);
    // a server certificate nobody vouches for: a sentence, not a hang
    const untrusted = await sweep(spec, tmp(), surl, '--connect-seconds', '2').done;
    expect(untrusted.code).toBe(5);
    expect(untrusted.err).toContain(`Redis at rediss://127.0.0.1:${secure.port}/0 is unreachable (SELF_SIGNED_CERT_IN_CHAIN)`);

    // a wrong password: a sentence with the URL, never the password tried
    const wrong = await sweep(spec, tmp(), `redis://:not-${secret}@127.0.0.1:${own.port}/0`, '--connect-seconds', '2').done;
    expect(wrong.code).toBe(5);
    expect(wrong.err).toContain(`cannot reach Redis at redis://127.0.0.1:${own.port}/0`);
    expect(wrong.err).not.toContain(secret);
  });

  it('local sweeps too: a trial killed with its runner (SIGKILL) resumes from its checkpoint when the sweep runs again', async () => {
    const dir = tmp('local');
    const runner = spawn(process.execPath, [BIN, 'sweep', KILL, '--workers', '2', '--out', dir], { env: ENV, detached: true, stdio: 'ignore' });
    const trials = path.join(dir, 'trials');
    let killedAt = 0;
    await until('a trial 2 epochs in', () => {
      for (const hash of fs.existsSync(trials) ? fs.readdirSync(trials) : []) {
        try {
          const step = JSON.parse(fs.readFileSync(path.join(trials, hash, 'checkpoint.json'), 'utf8')).step as number;
          if (step >= 8 && step < 36) killedAt = step;
        } catch {
          // not started yet
        }
      }
      return killedAt > 0;
    });
    const exited = new Promise((r) => runner.once('exit', r));
    process.kill(-runner.pid!, 'SIGKILL');
    await exited;
    const r = spawnSync(process.execPath, [BIN, 'sweep', KILL, '--workers', '2', '--out', dir, '--json'], { encoding: 'utf8', env: ENV });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/resumed from step \d+/);
    const resumed = fs.readdirSync(trials).filter((h) => /resumed from .* at step \d+/.test(fs.readFileSync(path.join(trials, h, 'train.log'), 'utf8')));
    expect(resumed.length).toBeGreaterThan(0);
    // exact resume: the results of a sweep never killed
    expect(readStore(dir).metrics).toEqual(localReference(KILL).metrics);
  });

  // workers on the project's own test hosts: network namespaces joined to the host by veth pairs
  const netns = (() => {
    if (os.platform() !== 'linux' || process.getuid?.() !== 0) return 'not root';
    const probe = spawnSync('ip', ['netns', 'list']);
    return probe.status === 0 ? '' : `ip netns is not available (${probe.error?.message ?? probe.stderr})`;
  })();
  if (netns) console.warn(`the queue across a network (workers in network namespaces) is skipped: ${netns}`);
  (netns ? redisTest('').skip : redisTest('queue tests'))(
    'across a network: workers in two network namespaces reach Redis over veth pairs and run the sweep',
    async () => {
      const tag = `${process.pid % 10000}`;
      const hosts = [1, 2].map((i) => ({
        ns: `selfsup-q${tag}-${i}`,
        host: `vq${tag}h${i}`,
        peer: `vq${tag}n${i}`,
        net: `10.${200 + i}.${process.pid % 250}`,
      }));
      const ip = (...args: string[]) => {
        const r = spawnSync('ip', args, { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
      };
      try {
        for (const h of hosts) {
          ip('netns', 'add', h.ns);
          ip('link', 'add', h.host, 'type', 'veth', 'peer', 'name', h.peer);
          ip('link', 'set', h.peer, 'netns', h.ns);
          ip('addr', 'add', `${h.net}.1/24`, 'dev', h.host);
          ip('link', 'set', h.host, 'up');
          ip('netns', 'exec', h.ns, 'ip', 'addr', 'add', `${h.net}.2/24`, 'dev', h.peer);
          ip('netns', 'exec', h.ns, 'ip', 'link', 'set', h.peer, 'up');
          ip('netns', 'exec', h.ns, 'ip', 'link', 'set', 'lo', 'up');
        }
        const own = await server({ bind: '0.0.0.0' });
        const art = tmp('art');
        // each worker reaches Redis at the host's address on its own veth link: no loopback in between
        const ws = hosts.map((h) => worker(`redis://${h.net}.1:${own.port}/0`, art, ['ip', 'netns', 'exec', h.ns]));
        const dir = tmp();
        const r = await sweep(HEADS, dir, own.url(0)).done;
        expect(r.code, r.err).toBe(0);
        const s = readStore(dir);
        expect(s.trials.every((t) => t.status === 'done')).toBe(true);
        // the trials ran in the namespaces' workers, and gave the local results
        expect(s.trials.every((t) => ws.some((w) => w.err().includes(`(${t.hash}): done`)))).toBe(true);
        expect(s.metrics).toEqual(localReference(HEADS).metrics);
        for (const w of ws) w.child.kill('SIGKILL');
      } finally {
        for (const h of hosts) {
          spawnSync('ip', ['netns', 'del', h.ns]);
          spawnSync('ip', ['link', 'del', h.host]);
        }
      }
    },
  );
});
