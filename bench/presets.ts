/**
 * Several presets on the same data, encoder and time budget, side by side: kNN and linear-probe
 * top-1 of each, and of the same encoder with its initial random weights (identical for every
 * preset: same encoder options and seed). For the pretext-task comparisons (rotation, inpainting,
 * colorization, composed tasks) beside SimCLR.
 *
 *   node dist/bench/presets.js --presets simclr,rotation,simclr-rotation [--budget 240] [--set k=v]... [--json]
 *   node dist/bench/presets.js --presets simclr,rotation,inpainting,colorization --cifar [--per-class 500] [--baseline-each]
 *
 * Without --cifar it uses the preset's data (the embedded Fashion-MNIST subset unless --set data...).
 * With --cifar: CIFAR-10 from ../shared/datasets/cifar10-jpeg.tar.gz (extracted into .bench/).
 */
import { createRegistry, loadDataset, progressCallback, resolveExperiment, selectBackend, train, markdownTable } from '../cli/api.js';
import { benchArgs, ensureCifar, log, pct } from './common.js';

const a = benchArgs({
  presets: { type: 'string', default: 'simclr,rotation,simclr-rotation' },
  budget: { type: 'string', default: '240' },
  cifar: { type: 'boolean', default: false },
  'per-class': { type: 'string', default: '500' },
  set: { type: 'string', multiple: true, default: [] },
  json: { type: 'boolean', default: false },
  // every preset scored beside its own random-weights encoder (its evaluation input may differ: colorization probes lightness)
  'baseline-each': { type: 'boolean', default: false },
});
const sets = [...a.set!];
if (a.cifar) {
  const root = ensureCifar();
  sets.unshift(`data={"type":"image-folder","root":${JSON.stringify(root)},"size":32,"limit":${Number(a['per-class'])}}`);
}
const common = [
  'train.epochs=1000',
  `train.maxSeconds=${a.budget}`,
  'train.checkpointEvery=0',
  'eval.every=0',
  'eval.final=[{"type":"knn"},{"type":"linear-probe"}]',
  'callbacks=[]',
];
const registry = createRegistry();
const backend = await selectBackend(registry, 'auto', log);
const presets = a.presets!.split(',');
const first = await resolveExperiment(presets[0], { registry, sets: [...sets, ...common] });
const data = await loadDataset(first.config, registry, log);
const rows: Array<Array<string | number>> = [];
const results: Array<Record<string, unknown>> = [];
for (const [i, preset] of presets.entries()) {
  log(`\n== ${preset}, ${a.budget} s ==`);
  const baseline = i === 0 || a['baseline-each']!;
  const { config } = await resolveExperiment(preset, { registry, sets: [...sets, ...common, `eval.baseline=${baseline}`] });
  const r = await train(config, { registry, data, backendReady: backend, callbacks: [await progressCallback(registry, 50)], log });
  if (baseline)
    rows.push([`(${a['baseline-each'] ? `${preset}'s` : 'same'} encoder, random weights)`, '-', pct(r.eval.random_knn_top1), pct(r.eval.random_linear_top1)]);
  rows.push([preset, r.steps, pct(r.eval.knn_top1), pct(r.eval.linear_top1)]);
  results.push({ preset, steps: r.steps, ...r.eval });
}
process.stdout.write(
  `\n${data.info.name}: ${data.train.count} train / ${data.test?.count} test images, ${a.budget} s of training each, backend ${backend.name}\n\n`,
);
process.stdout.write(markdownTable(['preset', 'steps', 'kNN top-1', 'linear top-1'], rows) + '\n');
if (a.json) process.stdout.write(JSON.stringify({ bench: 'presets', budget: Number(a.budget), results }) + '\n');
process.exit(0);
