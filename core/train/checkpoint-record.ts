import { tf, type Variable } from '../engine/tf.js';
import { DataError } from '../errors.js';
import type { ResolvedConfig } from '../config/experiment.js';

export const CHECKPOINT_FILE = 'checkpoint.json';

/** A checkpoint's record (`checkpoint.json`): the run's state and the table of its weight file. */
export interface CheckpointMeta {
  format: 'selfsup-checkpoint';
  version: 1;
  /** optimizer steps done */
  step: number;
  /** epochs completed */
  epoch: number;
  /** state of the run's augmentation RNG */
  rng: object;
  /** states of the plugins' RNG streams (queue shuffles, bank sampling), by stream key */
  rngs?: Record<string, object>;
  /** the scheduled option values at this step (`schedules`), for inspection: a resumed run recomputes them from the step */
  scheduled?: Record<string, number>;
  /** the step sums of an epoch the run stopped inside, so that its record covers the whole epoch after a resume */
  partialEpoch?: { count: number; sums: Record<string, number> };
  config: ResolvedConfig;
  backend: string;
  createdAt: string;
  /** file (next to checkpoint.json) that holds every tensor as float32, little-endian */
  weights: string;
  /** its size and SHA-256, checked when it is read */
  weightsBytes?: number;
  weightsSha256?: string;
  tensors: Array<{ key: string; shape: number[]; offset: number }>;
  /** metrics so far (per epoch), kept so a resumed run reports a full history */
  history: Array<Record<string, number>>;
}

/** What a caller gives for a checkpoint; the rest of the record comes from the tensors. */
export type CheckpointState = Omit<CheckpointMeta, 'format' | 'version' | 'weights' | 'weightsBytes' | 'weightsSha256' | 'tensors' | 'createdAt'>;

/**
 * A checkpoint in memory, portable: every tensor (read back asynchronously) as float32 in one weight file `weights-<step>.bin`,
 * and the record that names it. The caller adds the SHA-256 of `bytes` (Node hashes synchronously,
 * a browser with SubtleCrypto) and writes both: Node into a run directory (`saveCheckpoint`), the
 * playground into a tar of the same two files.
 */
export async function checkpointRecord(state: CheckpointState, tensors: Map<string, Variable>): Promise<{ meta: CheckpointMeta; bytes: Uint8Array }> {
  // read back asynchronously, as every backend allows (WebGPU may not read synchronously)
  const read = await Promise.all([...tensors].map(async ([key, v]) => ({ key, shape: v.shape, data: (await v.data()) as Float32Array })));
  return recordOf(state, read);
}

function recordOf(state: CheckpointState, tensors: Array<{ key: string; shape: number[]; data: Float32Array }>): { meta: CheckpointMeta; bytes: Uint8Array } {
  const entries: CheckpointMeta['tensors'] = [];
  let offset = 0;
  const parts: Float32Array[] = [];
  for (const { key, shape, data } of tensors) {
    entries.push({ key, shape: shape.slice(), offset });
    parts.push(data);
    offset += data.length;
  }
  const all = new Float32Array(offset);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const bytes = new Uint8Array(all.buffer);
  const meta: CheckpointMeta = {
    format: 'selfsup-checkpoint',
    version: 1,
    ...state,
    weights: `weights-${state.step}.bin`,
    weightsBytes: bytes.byteLength,
    tensors: entries,
    createdAt: new Date().toISOString(),
  };
  return { meta, bytes };
}

/** Assign a checkpoint's tensors into the run's variables; every variable must be present with its shape. */
export function restoreTensors(meta: CheckpointMeta, values: Float32Array, into: Map<string, Variable>): void {
  const byKey = new Map(meta.tensors.map((t) => [t.key, t]));
  const missing: string[] = [];
  for (const [key, v] of into) {
    const t = byKey.get(key);
    if (!t || t.shape.join() !== v.shape.join()) {
      missing.push(t ? `${key} (shape ${t.shape} vs ${v.shape})` : key);
      continue;
    }
    const size = t.shape.reduce((a, b) => a * b, 1);
    tf.tidy(() => v.assign(tf.tensor(values.subarray(t.offset, t.offset + size), t.shape, 'float32')));
  }
  if (missing.length) throw new DataError(`checkpoint does not match this model: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
}
