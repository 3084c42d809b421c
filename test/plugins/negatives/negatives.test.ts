import { beforeAll, describe, expect, it } from 'vitest';
import { PluginRegistry, Rng, createRegistry, tf, type NegativeSource, type Tensor2D } from '../../../cli/api.js';
import { maxAbsDiff, randn, useBackend } from '../../helpers.js';

const registry = createRegistry();
const make = (ref: { type: string; [k: string]: unknown }, extra: { inputDim: number; trainCount: number }) =>
  registry.create('negatives', ref, {
    seed: 0,
    rng: Rng.fromSeed(0, 'neg'),
    path: '/negatives',
    registry: registry as PluginRegistry,
    log: () => {},
    ...extra,
  }) as Promise<NegativeSource>;
const unit = (v: Float32Array, d: number) => {
  const out = v.slice();
  for (let i = 0; i < v.length; i += d) {
    const n = Math.hypot(...v.subarray(i, i + d));
    for (let j = 0; j < d; j++) out[i + j] /= n;
  }
  return out;
};

describe('momentum-queue', () => {
  beforeAll(() => useBackend('cpu', registry));

  it('after enqueues of various batch sizes its contents and pointer equal a plain-array ring, with wrap-around', async () => {
    const K = 7;
    const D = 3;
    const q = await make({ type: 'momentum-queue', size: K }, { inputDim: D, trainCount: 100 });
    const state = q.state!();
    const ref: number[][] = [];
    const init = state.get('queue')!.dataSync();
    for (let i = 0; i < K; i++) ref.push(Array.from(init.subarray(i * D, (i + 1) * D)));
    let ptr = 0;
    for (const [b, n] of [
      [3, 0],
      [4, 1],
      [5, 2],
      [2, 3],
      [9, 4],
      [1, 5],
    ] as const) {
      const keys = unit(randn([b, D], 100 + n), D);
      // the negatives of this step are the queue before the batch's keys go in
      const negs = q.negatives({ online: [], target: [{ z: tf.tensor2d(keys, [b, D]) }], index: new Int32Array(b) })!;
      expect(maxAbsDiff(negs.embeddings.dataSync(), ref.flat())).toBeLessThan(1e-6);
      await q.update!({ online: [], target: [{ z: tf.tensor2d(keys, [b, D]) }], index: new Int32Array(b) });
      const rows = Array.from({ length: b }, (_, i) => Array.from(keys.subarray(i * D, (i + 1) * D))).slice(Math.max(0, b - K));
      for (const r of rows) {
        ref[ptr] = r;
        ptr = (ptr + 1) % K;
      }
      expect(maxAbsDiff(state.get('queue')!.dataSync(), ref.flat())).toBeLessThan(1e-6);
      expect(state.get('pointer')!.dataSync()[0]).toBe(ptr);
    }
  });

  it('refuses a queue larger than the training set', async () => {
    await expect(make({ type: 'momentum-queue', size: 200 }, { inputDim: 4, trainCount: 100 })).rejects.toThrow(/larger than the training set \(100 images\)/);
  });
});

describe('memory-bank', () => {
  beforeAll(() => useBackend('cpu', registry));

  it('updates exactly the batch rows as normalise(m v + (1-m) f); other rows are unchanged', async () => {
    const N = 20;
    const D = 4;
    const bank = await make({ type: 'memory-bank', negatives: 5, momentum: 0.5 }, { inputDim: D, trainCount: N });
    const v = bank.state!().get('bank')!;
    const before = v.dataSync().slice();
    for (let i = 0; i < N; i++) expect(Math.hypot(...before.subarray(i * D, (i + 1) * D))).toBeCloseTo(1, 5);
    const index = Int32Array.from([3, 11, 17]);
    const f = randn([3, D], 9);
    await bank.update!({ online: [{ z: tf.tensor2d(f, [3, D]) as Tensor2D }], index });
    const after = v.dataSync();
    const fu = unit(f, D);
    for (let r = 0; r < N; r++) {
      const k = index.indexOf(r);
      const old = before.subarray(r * D, (r + 1) * D);
      const want =
        k < 0
          ? Array.from(old)
          : Array.from(
              unit(
                Float32Array.from(old, (x, j) => 0.5 * x + 0.5 * fu[k * D + j]),
                D,
              ),
            );
      expect(maxAbsDiff(after.subarray(r * D, (r + 1) * D), want)).toBeLessThan(1e-6);
    }
  });

  it('samples K indices in range, never the batch own with excludeOwn, and gives the own entries as positives', async () => {
    const N = 50;
    const bank = await make({ type: 'memory-bank', negatives: 40, excludeOwn: true }, { inputDim: 3, trainCount: N });
    const index = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (let t = 0; t < 20; t++) {
      const n = bank.negatives({ online: [], index })!;
      expect(n.owner!.length).toBe(40);
      for (const i of n.owner!) {
        expect(i).toBeGreaterThanOrEqual(10);
        expect(i).toBeLessThan(N);
      }
      const rows = bank.state!().get('bank')!.dataSync();
      expect(maxAbsDiff(n.positives!.dataSync(), rows.subarray(0, 30))).toBe(0);
      expect(maxAbsDiff(n.embeddings.dataSync().subarray(0, 3), rows.subarray(n.owner![0] * 3, n.owner![0] * 3 + 3))).toBe(0);
    }
  });
});

describe('negative source options', () => {
  it('memory-bank refuses K >= the number of entries, and needs the dimensions', async () => {
    await expect(make({ type: 'memory-bank', negatives: 100 }, { inputDim: 4, trainCount: 100 })).rejects.toThrow(
      /K = 100 negatives from a bank of 100 entries: use K < 100/,
    );
    await expect(make({ type: 'memory-bank', negatives: 0 }, { inputDim: 4, trainCount: 100 })).rejects.toThrow(/\/negatives\/negatives: must be >= 1/);
    await expect(make({ type: 'momentum-queue', size: 10, extra: 1 }, { inputDim: 4, trainCount: 100 })).rejects.toThrow(
      /\/negatives\/extra: unknown key 'extra'/,
    );
  });
});

describe('presets with negative sources', () => {
  it.each(['moco-v1', 'moco-v2', 'npid'])('%s trains a few steps on the embedded data (wasm) with a finite, moving loss', async (preset) => {
    const { runExperiment } = await import('../../../cli/api.js');
    const r = await runExperiment(preset, {
      sets: [
        'backend=wasm',
        'data.trainLimit=512',
        'data.testLimit=100',
        'encoder.widths=[8,16]',
        'train.batchSize=64',
        'train.epochs=1',
        'train.checkpointEvery=0',
        'eval.every=0',
        'eval.final=[]',
        'eval.baseline=false',
        ...(preset === 'npid' ? ['negatives.negatives=256'] : ['negatives.size=256']),
      ],
    });
    expect(r.steps).toBe(8);
    expect(r.losses.every(([, l]) => Number.isFinite(l))).toBe(true);
    expect(new Set(r.losses.map(([, l]) => l)).size).toBeGreaterThan(1);
  });
});

describe('views encoded by a MoCo step', () => {
  it('asymmetric InfoNCE with a momentum queue encodes only view 0 online and enqueues the N keys of view 1; symmetric encodes both views and enqueues 2N', async () => {
    const { resolveExperiment, buildRun, makeBatch, trainStep } = await import('../../../cli/api.js');
    await useBackend('cpu', registry);
    const N = 8; // queue of 32: 8 keys enqueued for one key view, 16 for two
    const run = async (symmetric: boolean) => {
      const { config } = await resolveExperiment('moco-v2', {
        registry,
        sets: [
          `loss.symmetric=${symmetric}`,
          'target.shuffleGroups=1',
          'data.trainLimit=64',
          'encoder.widths=[4,8]',
          `train.batchSize=${N}`,
          'negatives.size=32',
          'eval.baseline=false',
        ],
      });
      const parts = await buildRun(config, { registry });
      const task = parts.tasks[0];
      const seen: Record<string, number[]> = { online: [], key: [] };
      const wrap = (enc: { forward: (x: tf.Tensor, t: boolean) => unknown }, name: string) => {
        const f = enc.forward.bind(enc);
        enc.forward = (x, t) => (seen[name].push(x.shape[0]), f(x, t));
      };
      wrap(task.branch.encoder as never, 'online');
      const pointer = () => task.negatives.state!().get('pointer')!.dataSync()[0];
      const p0 = pointer();
      const order = Int32Array.from({ length: N }, (_, i) => i);
      const b = makeBatch(parts.data.train, parts.info, order);
      const before = tf.memory().numTensors;
      const r = await trainStep(parts, b, Rng.fromSeed(0, 's'), 1e-3, { step: 0, totalSteps: 1, epoch: 0, stepsPerEpoch: 1, fraction: 0 });
      b.x.dispose();
      expect(Number.isFinite(r.loss)).toBe(true);
      // nothing leaked by the sparse views
      expect(tf.memory().numTensors - before).toBeLessThanOrEqual(0);
      return { online: seen.online, enqueued: (pointer() - p0 + 32) % 32 };
    };
    const asym = await run(false);
    expect(asym.online).toEqual([N]);
    expect(asym.enqueued).toBe(N);
    const sym = await run(true);
    expect(sym.online).toEqual([2 * N]);
    expect(sym.enqueued).toBe(2 * N);
  });
});
