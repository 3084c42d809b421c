import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Rng,
  TrainingError,
  Type,
  buildRun,
  createRegistry,
  definePlugin,
  makeBatch,
  resolveExperiment,
  runExperiment,
  tf,
  trainStep,
  progressAt,
} from '../../../cli/api.js';
import { tinySimclr, useBackend } from '../../helpers.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-test-'));

describe('training', () => {
  it('a resumed run reproduces the uninterrupted run exactly on cpu', async () => {
    const full = await runExperiment(tinySimclr(), { outDir: tmp() });
    expect(full.steps).toBe(12);
    const dir = tmp();
    const first = await runExperiment(tinySimclr({ train: { epochs: 3, batchSize: 16, checkpointEvery: 1, maxSteps: 4 } }), { outDir: dir });
    expect(first.steps).toBe(4);
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8'));
    expect(meta.step).toBe(4);
    const resumed = await runExperiment('', { resume: dir, sets: ['train.maxSteps=1000'] });
    expect(resumed.losses.map(([s]) => s)).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
    // bit-for-bit: same batches, same augmentation draws, same optimizer state
    expect(resumed.losses).toEqual(full.losses.slice(4));
    expect(first.losses).toEqual(full.losses.slice(0, 4));
  });

  it('a run resumed at its end (killed during the final evaluation) reports what the finished run did: loss, evaluation and collapse monitor', async () => {
    const dir = tmp();
    const full = await runExperiment(tinySimclr(), { outDir: dir });
    expect(full.eval.z_std).toBeGreaterThan(0);
    const again = await runExperiment('', { resume: dir });
    expect(again.steps).toBe(full.steps);
    expect(again.loss).toBe(full.loss);
    expect(again.eval).toEqual(full.eval);
    expect(again.history).toEqual(full.history);

    // stopped inside an epoch by its budget (maxSteps 6 of 4-step epochs): refused as a resume, and
    // with finishIfDone evaluated as the finished run was, its partial epoch's loss included
    const budget = tmp();
    const stopped = await runExperiment(tinySimclr({ train: { epochs: 3, batchSize: 16, checkpointEvery: 1, maxSteps: 6 } }), { outDir: budget });
    expect(stopped.steps).toBe(6);
    await expect(runExperiment('', { resume: budget })).rejects.toThrow(/already at step 6, its budget \(train.maxSteps=6\)/);
    const finished = await runExperiment('', { resume: budget, finishIfDone: true });
    expect(finished.steps).toBe(6);
    expect(finished.loss).toBe(stopped.loss);
    expect(finished.eval).toEqual(stopped.eval);
  });

  it.each([
    [
      'MoCo (momentum target with Shuffle BN, queue)',
      { target: { type: 'momentum', momentum: 0.9, shuffleGroups: 2 }, negatives: { type: 'momentum-queue', size: 24 } },
    ],
    [
      'NPID (memory bank)',
      {
        augmenter: { type: 'multi-view', views: 1, pipeline: [{ type: 'horizontal-flip' }] },
        target: { type: 'none' },
        negatives: { type: 'memory-bank', negatives: 20 },
      },
    ],
  ])('%s: a resumed run reproduces the uninterrupted one exactly on cpu (plugin state and RNG streams are checkpointed)', async (_name, extra) => {
    const full = await runExperiment(tinySimclr(extra), { outDir: tmp() });
    const dir = tmp();
    await runExperiment(tinySimclr({ ...extra, train: { epochs: 3, batchSize: 16, checkpointEvery: 1, maxSteps: 4 } }), { outDir: dir });
    const resumed = await runExperiment('', { resume: dir, sets: ['train.maxSteps=1000'] });
    expect(resumed.losses).toEqual(full.losses.slice(4));
  });

  it.each([
    ['SimCLR', {}],
    ['MoCo (Shuffle BN, queue)', { target: { type: 'momentum', momentum: 0.9, shuffleGroups: 4 }, negatives: { type: 'momentum-queue', size: 40 } }],
    [
      'NPID (memory bank)',
      {
        augmenter: { type: 'multi-view', views: 1, pipeline: [{ type: 'horizontal-flip' }] },
        target: { type: 'none' },
        negatives: { type: 'memory-bank', negatives: 20 },
      },
    ],
  ])('%s: the tensor count stays flat over 50 steps (wasm), and the loss decreases', async (_name, extra) => {
    const { config, registry } = await resolveExperiment(tinySimclr({ backend: 'wasm', ...extra }));
    await useBackend('wasm', registry);
    const parts = await buildRun(config, { registry });
    const rng = Rng.fromSeed(0, 'augment');
    const losses: number[] = [];
    const step = async (i: number) => {
      const idx = Rng.fromSeed(0, `b${i}`).permutation(64).subarray(0, 16);
      const b = makeBatch(parts.data.train, parts.info, idx);
      losses.push((await trainStep(parts, b, rng, 0.5, progressAt(i, 60, 4))).loss);
      b.x.dispose();
    };
    for (let i = 0; i < 3; i++) await step(i);
    const before = tf.memory().numTensors;
    for (let i = 3; i < 53; i++) await step(i);
    expect(tf.memory().numTensors).toBe(before);
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 10)));
  });

  it('writes checkpoint.json, weights, metrics.jsonl and result.json atomically named', async () => {
    const dir = tmp();
    await runExperiment(tinySimclr({ train: { epochs: 2, batchSize: 16, checkpointEvery: 1 } }), { outDir: dir });
    const files = fs.readdirSync(dir).sort();
    // the last checkpoint (step 8) and the one before it (step 4), each with its weights
    expect(files).toEqual(['checkpoint-previous.json', 'checkpoint.json', 'metrics.jsonl', 'result.json', 'weights-4.bin', 'weights-8.bin']);
    const lines = fs
      .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.epoch)).toEqual([1, 2]);
  });

  it('maxSeconds stops at the time budget and fits the cosine schedule to it', async () => {
    const lrs: number[] = [];
    const elapsed: number[] = [];
    const r = await runExperiment(tinySimclr({ train: { epochs: 1000, batchSize: 16, checkpointEvery: 0, maxSeconds: 4 } }), {
      callbacks: [{ onStepEnd: (s) => void (lrs.push(s.lr), elapsed.push(s.elapsedSeconds)) }],
    });
    // it stops after the step that crosses the budget: before that step it was under it (no timing threshold, so a loaded machine cannot flake it)
    expect(r.trainSeconds).toBeGreaterThanOrEqual(4);
    expect(elapsed.at(-1)).toBe(r.trainSeconds);
    expect(elapsed.at(-2)!).toBeLessThan(4);
    expect(r.steps).toBeLessThan(4000);
    // base lr 0.1: warmup over the first epoch, then a cosine that ends near 0 at the budget
    expect(Math.max(...lrs)).toBeGreaterThan(0.09);
    expect(lrs.at(-1)!).toBeLessThan(0.03);
  });

  it('a backend running out of memory mid-step becomes a TrainingError that says what to lower', async () => {
    const registry = createRegistry().register(
      definePlugin({
        kind: 'loss',
        name: 'oom',
        description: 'throws like wasm does when its heap is exhausted',
        options: Type.Object({}),
        create: () => ({
          compute: () => {
            throw new RangeError('memory access out of bounds');
          },
        }),
      }),
    );
    const err = await runExperiment(tinySimclr({ loss: { type: 'oom' } }), { registry }).catch((e) => e);
    expect(err).toBeInstanceOf(TrainingError);
    expect(err.message).toMatch(/the cpu backend ran out of memory during a training step .*lower train.batchSize \(now 16\)/);
  });

  it('NaN loss stops with a TrainingError that says what to do', async () => {
    const cfg = tinySimclr({ optimizer: { type: 'sgd', lr: 1e30, momentum: 0.9 }, train: { epochs: 3, batchSize: 16, checkpointEvery: 0 } });
    await expect(runExperiment(cfg)).rejects.toThrow(/loss became (NaN|Infinity).*lower the learning rate/);
  });

  it('SimCLR (preset, wasm) beats the same encoder with its initial random weights on the embedded Fashion-MNIST (kNN)', async () => {
    const trained = await runExperiment('simclr', {
      sets: [
        'backend=wasm',
        'data.trainLimit=2048',
        'data.testLimit=500',
        'encoder.widths=[16,32]',
        'head.hiddenDim=32',
        'train.batchSize=128',
        'train.epochs=4',
        'train.checkpointEvery=0',
        'eval.every=0',
        'eval.final=[{"type":"knn","k":20}]',
        'eval.baseline=true',
        'optimizer.lr=0.003',
      ],
    });
    expect(Object.keys(trained.eval).sort()).toEqual(['knn_top1', 'random_knn_top1', 'z_std', 'z_std_ref']);
    expect(trained.eval.z_std_ref).toBeCloseTo(1 / Math.sqrt(64), 12);
    // the collapse monitor: at most 1/sqrt(D) for unit vectors (D = 64), far from 0 for a contrastive method
    expect(trained.eval.z_std).toBeLessThanOrEqual(1 / Math.sqrt(64) + 1e-6);
    expect(trained.eval.z_std).toBeGreaterThan(0.5 / Math.sqrt(64));
    expect(trained.eval.random_knn_top1).toBeGreaterThan(0.3); // 10 classes: random conv features are far above chance
    expect(trained.eval.knn_top1).toBeGreaterThan(trained.eval.random_knn_top1 + 0.04); // measured 0.652 vs 0.572
  });
});
