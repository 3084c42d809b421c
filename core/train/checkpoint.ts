import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Variable } from '../engine/tf.js';
import { DataError, EnvironmentError, asEnvironmentError } from '../errors.js';
import { unpackTar } from '../data/tar-entries.js';
import { CHECKPOINT_FILE, checkpointRecord, type CheckpointMeta, type CheckpointState } from './checkpoint-record.js';

export { CHECKPOINT_FILE, restoreTensors, type CheckpointMeta } from './checkpoint-record.js';

/** the checkpoint before the last one (with its weight file), kept so that a damaged last one is not the end of a run */
export const PREVIOUS_CHECKPOINT_FILE = 'checkpoint-previous.json';

/**
 * Write `file` atomically: a temp file in the same directory, then rename. A failure (a full disk,
 * no permission) removes the temp file and is an EnvironmentError naming `file`; the old file, if
 * any, is left as it was.
 */
export function writeAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw asEnvironmentError(e, 'write', file);
  }
}

/**
 * Save a checkpoint into `dir`: the tensors go to a new `weights-<step>.bin`; with `keepPrevious` (a
 * run that already saved or resumed here) the current `checkpoint.json` becomes
 * `checkpoint-previous.json`, keeping its weight file; then `checkpoint.json` (which names the new
 * weights) is replaced atomically, and only then the weight files no record names any more are
 * removed (the ones the replaced records named, nothing else). A crash at any point leaves a
 * complete checkpoint, never a mix. Without `keepPrevious` (a new run over an old one, `--force`)
 * an older previous checkpoint is removed, so a previous checkpoint is always this run's.
 */
export async function saveCheckpoint(
  dir: string,
  meta: CheckpointState,
  tensors: Map<string, Variable>,
  opts: { keepPrevious?: boolean } = {},
): Promise<string> {
  // the tensors are read before anything in the directory changes
  const { meta: record, bytes } = await checkpointRecord(meta, tensors);
  fs.mkdirSync(dir, { recursive: true });
  const weights = record.weights;
  const current = recordIn(dir, CHECKPOINT_FILE);
  const older = recordIn(dir, PREVIOUS_CHECKPOINT_FILE);
  ensureSpace(dir, bytes.byteLength + 64 * 1024, current?.weights);
  writeAtomic(path.join(dir, weights), bytes);
  const full: CheckpointMeta = { ...record, weightsSha256: crypto.createHash('sha256').update(bytes).digest('hex') };
  const keep = new Set([weights]);
  if (opts.keepPrevious && current && current.weights !== weights) {
    writeAtomic(path.join(dir, PREVIOUS_CHECKPOINT_FILE), current.text);
    keep.add(current.weights);
  } else if (older) fs.rmSync(path.join(dir, PREVIOUS_CHECKPOINT_FILE), { force: true });
  writeAtomic(path.join(dir, CHECKPOINT_FILE), JSON.stringify(full, null, 1));
  for (const w of [current?.weights, older?.weights]) if (w && !keep.has(w)) fs.rmSync(path.join(dir, w), { force: true });
  return path.join(dir, CHECKPOINT_FILE);
}

/**
 * Make the previous checkpoint the last one again (a run continuing from it, `--previous`, in its
 * own directory): `checkpoint.json` is replaced by it; the damaged record's weight file is left where
 * it is (the run's next checkpoint at that step replaces it).
 */
export function promotePreviousCheckpoint(dir: string): void {
  const previous = recordIn(dir, PREVIOUS_CHECKPOINT_FILE);
  if (previous) writeAtomic(path.join(dir, CHECKPOINT_FILE), previous.text);
}

/** A checkpoint record of the directory (its text and the weight file it names), if there is a readable one. */
function recordIn(dir: string, file: string): { text: string; weights: string } | undefined {
  try {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const w = (JSON.parse(text) as Partial<CheckpointMeta>).weights;
    return typeof w === 'string' && /^weights-\d+\.bin$/.test(w) ? { text, weights: w } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Read and verify a checkpoint: `checkpoint.json` (or with `previous`, `checkpoint-previous.json`)
 * parses, its weight file exists, has the size the tensor table needs and the SHA-256 it was
 * written with. Each failure is a DataError naming the file; when the last checkpoint fails and the
 * previous one is intact, the message says so and how to resume from it (`--previous`).
 */
export function readCheckpoint(dir: string, opts: { previous?: boolean } = {}): { meta: CheckpointMeta; values: Float32Array } {
  if (opts.previous) return verifiedCheckpoint(dir, PREVIOUS_CHECKPOINT_FILE);
  try {
    return verifiedCheckpoint(dir, CHECKPOINT_FILE);
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    let older: CheckpointMeta | undefined;
    try {
      older = verifiedCheckpoint(dir, PREVIOUS_CHECKPOINT_FILE).meta;
    } catch {
      throw e;
    }
    const err = new DataError(
      `${e.message}; the checkpoint before it, step ${older.step} (epoch ${older.epoch}), is intact: continue from it with --resume ${dir} --previous`,
    );
    (err as { cause?: unknown }).cause = e;
    throw err;
  }
}

/**
 * The files of a checkpoint: a run directory, or a `.tar` of its `checkpoint.json` and weight file
 * (what the browser playground downloads), read whole into memory.
 */
function checkpointFiles(loc: string): { where: (name: string) => string; read: (name: string, label: string) => Uint8Array | undefined } {
  if (/\.tar$/i.test(loc) && fs.existsSync(loc) && fs.statSync(loc).isFile()) {
    let entries: Map<string, Uint8Array>;
    try {
      entries = unpackTar(fs.readFileSync(loc), loc);
    } catch (e) {
      const env = asEnvironmentError(e, 'read the checkpoint', loc);
      throw env instanceof EnvironmentError ? env : e;
    }
    return { where: (name) => `${loc}:${name}`, read: (name) => entries.get(name) };
  }
  return {
    where: (name) => path.join(loc, name),
    read: (name, label) => {
      const file = path.join(loc, name);
      if (!fs.existsSync(file)) return undefined;
      try {
        return fs.readFileSync(file);
      } catch (e) {
        const env = asEnvironmentError(e, 'read', file);
        throw env instanceof EnvironmentError && (e as NodeJS.ErrnoException).code !== 'EISDIR'
          ? env
          : new DataError(`${label} ${file} cannot be read (${(e as Error).message}): the checkpoint cannot be used`);
      }
    },
  };
}

function verifiedCheckpoint(dir: string, name: string): { meta: CheckpointMeta; values: Float32Array } {
  const files = checkpointFiles(dir);
  const file = files.where(name);
  const text = files.read(name, 'the checkpoint record');
  if (!text) throw new DataError(`no checkpoint in ${dir} (expected ${name}): pass the --out directory of a run, or a checkpoint .tar from the playground`);
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(new TextDecoder().decode(text)) as CheckpointMeta;
  } catch (e) {
    throw new DataError(`${file} is damaged (${(e as Error).message}): the run cannot be resumed or evaluated from it`);
  }
  if (meta?.format !== 'selfsup-checkpoint' || !Array.isArray(meta.tensors) || typeof meta.weights !== 'string')
    throw new DataError(`${file} is not a selfsup checkpoint`);
  // a hand-edited or damaged record: say which field, before anything is read or written from it
  const bad = !Number.isInteger(meta.step) || meta.step < 0 ? 'step' : !meta.config || typeof meta.config !== 'object' ? 'config' : undefined;
  if (bad) throw new DataError(`${file} is damaged: its '${bad}' is ${JSON.stringify(meta[bad]) ?? 'missing'}: the run cannot be resumed or evaluated from it`);
  const wfile = files.where(meta.weights);
  const buf = files.read(meta.weights, 'the weight file');
  if (!buf) throw new DataError(`the weight file ${wfile} that ${file} names is missing: the checkpoint cannot be used`);
  const needed = 4 * meta.tensors.reduce((n, t) => Math.max(n, t.offset + t.shape.reduce((a, b) => a * b, 1)), 0);
  if (buf.byteLength !== (meta.weightsBytes ?? needed) || buf.byteLength < needed) {
    throw new DataError(`${wfile} is truncated or damaged: ${buf.byteLength} bytes where ${file} records ${meta.weightsBytes ?? needed}`);
  }
  if (meta.weightsSha256 && crypto.createHash('sha256').update(buf).digest('hex') !== meta.weightsSha256) {
    throw new DataError(`${wfile} is damaged: its SHA-256 differs from the one ${file} records`);
  }
  const values = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return { meta, values };
}

/** Refuse to start a checkpoint that cannot fit: the previous one (named `previous`) stays the last good one. */
function ensureSpace(dir: string, bytes: number, previous: string | undefined): void {
  let free: number;
  try {
    const s = fs.statfsSync(dir);
    free = s.bavail * s.bsize;
  } catch {
    return; // no statfs here: the write itself reports a full disk
  }
  if (free < bytes) {
    const mb = (n: number) => (n / 2 ** 20).toFixed(1);
    throw new EnvironmentError(
      `not enough space to write a checkpoint in ${dir}: ${mb(bytes)} MB needed, ${mb(free)} MB free${previous ? `; the previous checkpoint (${previous}) is kept` : ''}`,
    );
  }
}
