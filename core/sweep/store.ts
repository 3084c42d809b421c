import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { PlannedTrial } from './plan.js';
import { DataError } from '../errors.js';

export type TrialStatus = 'pending' | 'running' | 'done' | 'failed';

/** A trial as the store holds it. */
export interface TrialRow {
  hash: string;
  idx: number;
  label: string;
  /** config path -> value (JSON) */
  axes: Record<string, unknown>;
  seed: number;
  config: Record<string, unknown>;
  status: TrialStatus;
  error: string | null;
  worker: number | null;
  /** the queue worker that ran it (`host/pid#slot`); null for a local run */
  host: string | null;
  backend: string | null;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  seconds: number | null;
  trainSeconds: number | null;
  steps: number | null;
}

/** What a finished trial reports, committed at once. */
export interface TrialOutcome {
  backend: string;
  steps: number;
  seconds: number;
  trainSeconds: number;
  /** final metrics (`knn_top1`, `linear_top1`, ...) and the final loss as `loss` */
  final: Record<string, number>;
  /** per-epoch records: `{ epoch, step, loss, ...monitor metrics }` */
  history: Array<Record<string, number>>;
}

/** What a queue knows about a trial besides its outcome. */
export interface TrialCommitExtra {
  /** times a worker started it (the queue's count: a retry after a worker died counts) */
  attempts?: number;
  /** the queue worker that ran it (`host/pid#slot`) */
  host?: string;
}

export const STORE_FILE = 'sweep.db';

/**
 * A sweep's results in SQLite (`<dir>/sweep.db`): one row per trial keyed by its config hash, and its
 * metrics (per epoch and final). Only the runner writes. A result is committed in one transaction with
 * the trial's status, so a kill at any moment leaves each trial either finished (with all its
 * metrics) or not, never half-written; rerunning the sweep runs exactly the unfinished ones.
 */
export class SweepStore {
  readonly db: Database.Database;

  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, STORE_FILE);
    try {
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
    } catch (e) {
      throw new DataError(
        `${file} is not a readable sweep store (${(e as Error).message}): move it aside (mv ${file} ${file}.bad) and run the sweep again; finished trials will run again`,
      );
    }
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS trials (
        hash TEXT PRIMARY KEY, idx INTEGER NOT NULL, label TEXT NOT NULL, axes TEXT NOT NULL, seed INTEGER NOT NULL,
        config TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('pending','running','done','failed')),
        error TEXT, worker INTEGER, backend TEXT, attempts INTEGER NOT NULL DEFAULT 0,
        started_at TEXT, finished_at TEXT, seconds REAL, train_seconds REAL, steps INTEGER, host TEXT);
      CREATE TABLE IF NOT EXISTS metrics (
        hash TEXT NOT NULL REFERENCES trials(hash), scope TEXT NOT NULL CHECK (scope IN ('final','epoch')),
        epoch INTEGER NOT NULL, name TEXT NOT NULL, value REAL, PRIMARY KEY (hash, scope, epoch, name));
    `);
    // stores made before trials ran on queue workers have no host column
    const columns = this.db.prepare('PRAGMA table_info(trials)').all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'host')) this.db.exec('ALTER TABLE trials ADD COLUMN host TEXT');
  }

  setMeta(values: Record<string, unknown>): void {
    const put = this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    this.db.transaction(() => {
      for (const [k, v] of Object.entries(values)) put.run(k, JSON.stringify(v));
    })();
  }

  meta(): Record<string, unknown> {
    const rows = this.db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>;
    return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value)]));
  }

  /**
   * Record the planned trials: new ones as pending, known ones keep their status and results (their
   * index and label follow the current spec). Trials left `running` by a killed runner become pending.
   */
  plan(trials: PlannedTrial[]): void {
    const insert = this.db.prepare(
      `INSERT INTO trials (hash, idx, label, axes, seed, config, status) VALUES (@hash, @idx, @label, @axes, @seed, @config, 'pending')
       ON CONFLICT(hash) DO UPDATE SET idx = excluded.idx, label = excluded.label, axes = excluded.axes`,
    );
    this.db.transaction(() => {
      this.db.prepare("UPDATE trials SET status = 'pending', worker = NULL WHERE status = 'running'").run();
      for (const t of trials)
        insert.run({ hash: t.hash, idx: t.index, label: t.label, axes: JSON.stringify(t.axes), seed: t.seed, config: JSON.stringify(t.config) });
    })();
  }

  /** A worker started the trial: `worker` is a local slot, `host` a queue worker's `host/pid#slot`. */
  markRunning(hash: string, worker: number | null, host: string | null = null): void {
    this.db
      .prepare("UPDATE trials SET status = 'running', worker = ?, host = ?, attempts = attempts + 1, started_at = ?, error = NULL WHERE hash = ?")
      .run(worker, host, new Date().toISOString(), hash);
  }

  /** Put a running trial back to pending (the runner was interrupted). */
  release(hash: string): void {
    this.db.prepare("UPDATE trials SET status = 'pending', worker = NULL WHERE hash = ? AND status = 'running'").run(hash);
  }

  /**
   * Commit a finished trial: its metrics and its status in one transaction. Committing the same trial
   * again (a queue delivers at least once) replaces it: still one row, one set of metrics. `extra`:
   * the queue's count of attempts and the worker that ran it.
   */
  commitDone(hash: string, r: TrialOutcome, extra: TrialCommitExtra = {}): void {
    const put = this.db.prepare('INSERT INTO metrics (hash, scope, epoch, name, value) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM metrics WHERE hash = ?').run(hash);
      for (const [k, v] of Object.entries(r.final)) put.run(hash, 'final', 0, k, Number.isFinite(v) ? v : null);
      for (const rec of r.history) {
        for (const [k, v] of Object.entries(rec)) if (k !== 'epoch') put.run(hash, 'epoch', rec.epoch, k, Number.isFinite(v) ? v : null);
      }
      this.db
        .prepare("UPDATE trials SET status = 'done', error = NULL, backend = ?, steps = ?, seconds = ?, train_seconds = ?, finished_at = ? WHERE hash = ?")
        .run(r.backend, r.steps, r.seconds, r.trainSeconds, new Date().toISOString(), hash);
      this.applyExtra(hash, extra);
    })();
  }

  commitFailed(hash: string, error: string, seconds: number, extra: TrialCommitExtra = {}): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM metrics WHERE hash = ?').run(hash);
      this.db
        .prepare("UPDATE trials SET status = 'failed', error = ?, seconds = ?, finished_at = ? WHERE hash = ?")
        .run(error, seconds, new Date().toISOString(), hash);
      this.applyExtra(hash, extra);
    })();
  }

  private applyExtra(hash: string, extra: TrialCommitExtra): void {
    if (extra.attempts !== undefined) this.db.prepare('UPDATE trials SET attempts = ? WHERE hash = ?').run(extra.attempts, hash);
    if (extra.host !== undefined) this.db.prepare('UPDATE trials SET host = ? WHERE hash = ?').run(extra.host, hash);
  }

  /** Hashes still to run among `hashes` (pending; also failed ones with `retryFailed`). */
  unfinished(hashes: string[], retryFailed = false): Set<string> {
    const rows = this.db.prepare('SELECT hash, status FROM trials').all() as Array<{ hash: string; status: TrialStatus }>;
    const status = new Map(rows.map((r) => [r.hash, r.status]));
    return new Set(hashes.filter((h) => status.get(h) === 'pending' || status.get(h) === 'running' || (retryFailed && status.get(h) === 'failed')));
  }

  /** Trials, in sweep order; with `hashes`, only those. */
  trials(hashes?: Set<string>): TrialRow[] {
    const rows = this.db.prepare('SELECT * FROM trials ORDER BY idx').all() as Array<Record<string, any>>;
    return rows
      .filter((r) => !hashes || hashes.has(r.hash))
      .map((r) => ({
        hash: r.hash,
        idx: r.idx,
        label: r.label,
        axes: JSON.parse(r.axes),
        seed: r.seed,
        config: JSON.parse(r.config),
        status: r.status,
        error: r.error,
        worker: r.worker,
        host: r.host ?? null,
        backend: r.backend,
        attempts: r.attempts,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        seconds: r.seconds,
        trainSeconds: r.train_seconds,
        steps: r.steps,
      }));
  }

  /** Final metrics of each finished trial: hash -> name -> value. */
  finalMetrics(): Map<string, Record<string, number>> {
    const rows = this.db.prepare("SELECT hash, name, value FROM metrics WHERE scope = 'final'").all() as Array<{ hash: string; name: string; value: number }>;
    const out = new Map<string, Record<string, number>>();
    for (const r of rows) out.set(r.hash, { ...out.get(r.hash), [r.name]: r.value });
    return out;
  }

  /** Per-epoch records of each finished trial: hash -> [{ epoch, loss, ... }] sorted by epoch. */
  epochMetrics(): Map<string, Array<Record<string, number>>> {
    const rows = this.db.prepare("SELECT hash, epoch, name, value FROM metrics WHERE scope = 'epoch' ORDER BY hash, epoch").all() as Array<{
      hash: string;
      epoch: number;
      name: string;
      value: number;
    }>;
    const out = new Map<string, Array<Record<string, number>>>();
    for (const r of rows) {
      const list = out.get(r.hash) ?? [];
      let rec = list[list.length - 1];
      if (!rec || rec.epoch !== r.epoch) list.push((rec = { epoch: r.epoch }));
      rec[r.name] = r.value;
      out.set(r.hash, list);
    }
    return out;
  }

  close(): void {
    this.db.close();
  }
}
