import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  buildRun,
  createRegistry,
  readCheckpoint,
  resolveExperiment,
  restoreTensors,
  selectBackend,
  stateTensors,
  tf,
  Rng,
  type Encoder,
  type PluginRegistry,
} from '../cli/api.js';

/** Activate a backend (wasm registers selfsup's kernels). */
export async function useBackend(name: 'cpu' | 'wasm', registry: PluginRegistry = createRegistry()): Promise<void> {
  await selectBackend(registry, name);
}

/** An encoder plugin built as a run would, for `side` x `side` images of `channels` channels (seed 0). */
export async function makeEncoder(registry: PluginRegistry, ref: { type: string; [k: string]: unknown }, side = 32, channels = 3): Promise<Encoder> {
  return (await registry.create('encoder', ref, {
    seed: 0,
    rng: Rng.fromSeed(0),
    path: '/encoder',
    registry,
    log: () => {},
    dataset: { name: 't', height: side, width: side, channels, numClasses: 10, mean: [0], std: [1] },
  })) as Encoder;
}

/** Random normal values, seeded. */
export function randn(shape: number[], seed: number): Float32Array {
  const r = Rng.fromSeed(seed, 'test');
  return r.fill(
    shape.reduce((a, b) => a * b, 1),
    (g) => g.normal(),
  );
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export { tf };

/** A SimCLR config small enough for unit tests: synthetic 16x16 data, a 2-stage CNN. */
export function tinySimclr(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'tiny',
    seed: 0,
    backend: 'cpu',
    data: { type: 'synthetic', train: 64, test: 32, size: 12, classes: 4 },
    encoder: { type: 'small-cnn', widths: [4, 8] },
    augmenter: {
      type: 'multi-view',
      views: 2,
      pipeline: [{ type: 'random-resized-crop', scale: [0.5, 1] }, { type: 'horizontal-flip' }, { type: 'color-jitter' }],
    },
    head: { type: 'mlp', layers: 2, hiddenDim: 8, outDim: 8 },
    target: { type: 'shared' },
    negatives: { type: 'in-batch' },
    loss: { type: 'info-nce', temperature: 0.5 },
    optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 1e-4 },
    schedule: { type: 'cosine', warmupEpochs: 1 },
    train: { epochs: 3, batchSize: 16, checkpointEvery: 1 },
    eval: { every: 0, monitor: [], final: [] },
    ...extra,
  };
}

/** Every file of a directory with the SHA-256 of its bytes: what "nothing was touched" means. */
export function fingerprint(dir: string): Record<string, string> {
  return Object.fromEntries(
    fs.readdirSync(dir).map((f) => [
      f,
      crypto
        .createHash('sha256')
        .update(fs.readFileSync(path.join(dir, f)))
        .digest('hex'),
    ]),
  );
}

/** A run's metrics.jsonl records of one type (`epoch`, `partial-epoch`), without their timings. */
export function metricRecords(dir: string, type = 'epoch'): Array<Record<string, unknown>> {
  return fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.type === type)
    .map(({ seconds: _s, ...r }) => r);
}

/**
 * A checkpoint's run rebuilt here, step by step (config, build, weights), independently of
 * loadCheckpointRun, so a test of export or embed compares with a model its own code did not load.
 */
export async function rebuildFromCheckpoint(dir: string, sets: string[] = []) {
  const { meta, values } = readCheckpoint(dir);
  const { config, registry } = await resolveExperiment(meta.config as unknown as Record<string, unknown>, { sets });
  const parts = await buildRun(config, { registry });
  restoreTensors(meta, values, stateTensors(parts));
  return parts;
}
