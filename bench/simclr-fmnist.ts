/**
 * SimCLR on the full Fashion-MNIST for a fixed wall-clock budget, then linear-probe (and kNN)
 * top-1 on the 10k test images, against two baselines measured in the same run: a linear
 * classifier on raw pixels and the same encoder with its initial random weights (batch-norm
 * statistics from one pass over the training set: `eval.baseline`).
 *
 *   node dist/bench/simclr-fmnist.js [--budget 3600] [--data DIR] [--preset simclr] [--set k=v]... [--out DIR] [--json]
 *
 * `train.maxSeconds` fits the cosine schedule to the budget from the measured step rate, as a
 * wall-clock-driven schedule would. Evaluation time is not counted in the budget.
 */
import path from 'node:path';
import {
  createRegistry,
  loadDataset,
  progressCallback,
  linearProbeTop1,
  resolveExperiment,
  selectBackend,
  train,
  type FeatureSet,
  markdownTable,
} from '../cli/api.js';
import { benchArgs, findDir, log, pct } from './common.js';

const a = benchArgs({
  budget: { type: 'string', default: '3600' },
  data: { type: 'string' },
  preset: { type: 'string', default: 'simclr' },
  set: { type: 'string', multiple: true, default: [] },
  out: { type: 'string' },
  json: { type: 'boolean', default: false },
});
const budget = Number(a.budget);
const dir = findDir([a.data, '../shared/datasets/fashion-mnist', '/usr/share/datasets/fashion-mnist'], 'Fashion-MNIST');
const out = a.out ?? path.join('runs', `bench-simclr-fmnist-${Date.now()}`);
const registry = createRegistry();
// eval.baseline: the same encoder with its initial random weights is scored too (random_*)
const baseSets = [
  `data.dir=${dir}`,
  'eval.every=0',
  'eval.baseline=true',
  'eval.final=[{"type":"knn"},{"type":"linear-probe"},{"type":"knn","features":"z"},{"type":"linear-probe","features":"z"}]',
  ...a.set!,
];
const { config } = await resolveExperiment(a.preset!, { registry, sets: baseSets });
const backend = await selectBackend(registry, config.backend, log);
log(`backend: ${backend.name} (${backend.details ?? ''}); data: ${dir}; budget ${budget} s`);
const data = await loadDataset(config, registry, log);

// Baseline 1: a linear classifier on raw pixels (the same probe as for the encoder).
const px = data.info.height * data.info.width * data.info.channels;
const raw = (set: typeof data.train): FeatureSet => ({ x: Float32Array.from(set.images, (v) => v / 255), dim: px, labels: set.labels, count: set.count });
const t0 = performance.now();
const pixels = await linearProbeTop1(raw(data.train), raw(data.test!), data.info.numClasses, { epochs: 30, batchSize: 512, lr: 1e-2, weightDecay: 0, seed: 0 });
log(`raw pixels: linear ${pct(pixels)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);

// The schedule is fitted to the budget by the trainer (train.maxSeconds); epochs is only an upper bound.
const { config: runConfig } = await resolveExperiment(a.preset!, {
  registry,
  sets: [...baseSets, 'train.epochs=1000', `train.maxSeconds=${budget}`, 'train.checkpointEvery=0'],
});
const result = await train(runConfig, { registry, outDir: out, data, backendReady: backend, callbacks: [await progressCallback(registry, 25)], log });

const e = result.eval;
const rows = [
  ['linear classifier on raw pixels', '-', pct(pixels), '-', '-', '-'],
  ['same encoder, random weights', '0', pct(e.random_linear_top1), pct(e.random_knn_top1), pct(e.random_linear_z_top1), pct(e.random_knn_z_top1)],
  [
    `${config.name} (${result.epochs.toFixed(2)} epochs)`,
    String(result.steps),
    pct(result.eval.linear_top1),
    pct(result.eval.knn_top1),
    pct(result.eval.linear_z_top1),
    pct(result.eval.knn_z_top1),
  ],
];
const table = markdownTable(['method', 'steps', 'linear h', 'kNN h', 'linear z', 'kNN z'], rows);
process.stdout.write(
  `\nFashion-MNIST, 60k train -> 10k test, backend ${backend.name}, training ${result.trainSeconds.toFixed(0)} s of a ${budget} s budget, ${(result.steps / result.epochs).toFixed(0)} steps per epoch\n\n${table}\n`,
);
if (a.json)
  process.stdout.write(
    JSON.stringify({
      bench: 'simclr-fmnist',
      backend: backend.name,
      budget,
      trainSeconds: result.trainSeconds,
      epochs: result.epochs,
      steps: result.steps,
      pixels,
      simclr: result.eval,
      out,
    }) + '\n',
  );
process.exit(0);
