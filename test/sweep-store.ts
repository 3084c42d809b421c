import path from 'node:path';
import Database from 'better-sqlite3';

/** A trial row as the sweep tests read it from `sweep.db`. */
export interface StoredTrial {
  hash: string;
  status: string;
  attempts: number;
  /** the queue worker that ran it (`host/pid#slot`), null locally */
  host: string | null;
  error: string | null;
}

/** A sweep directory's store, read-only: its trials in sweep order and every metric row, sorted. */
export function readStore(dir: string): { trials: StoredTrial[]; metrics: Array<Record<string, unknown>> } {
  const db = new Database(path.join(dir, 'sweep.db'), { readonly: true });
  const trials = db.prepare('SELECT hash, status, attempts, host, error FROM trials ORDER BY idx').all() as StoredTrial[];
  const metrics = db.prepare('SELECT hash, scope, epoch, name, value FROM metrics ORDER BY hash, scope, epoch, name').all() as Array<Record<string, unknown>>;
  db.close();
  return { trials, metrics };
}

/** Trials done in a sweep directory's store (0 before it exists). */
export function doneCount(dir: string): number {
  try {
    const db = new Database(path.join(dir, 'sweep.db'), { readonly: true, fileMustExist: true });
    const n = (db.prepare("SELECT count(*) AS n FROM trials WHERE status = 'done'").get() as { n: number }).n;
    db.close();
    return n;
  } catch {
    return 0;
  }
}
