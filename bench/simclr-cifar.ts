/**
 * The SimCLR preset on CIFAR-10 (image-folder) with the CIFAR-stem ResNet-18: trains for
 * `--epochs` epochs (default 1) over the training images (all 50,000, or `--per-class N`), then
 * reports the kNN top-1 on the test split and the median step time.
 *
 *   node dist/bench/simclr-cifar.js [--tar ../shared/datasets/cifar10-jpeg.tar.gz] [--per-class N] [--test-per-class N] [--epochs 1] [--set k=v]... [--json]
 *
 * The archive is extracted once into .bench/ (git-ignored).
 */
import { createRegistry, loadDataset, progressCallback, resolveExperiment, selectBackend, train, type StepReport, markdownTable, median } from '../cli/api.js';
import { benchArgs, ensureCifar, log, pct } from './common.js';

const a = benchArgs({
  tar: { type: 'string' },
  'per-class': { type: 'string' },
  'test-per-class': { type: 'string' },
  epochs: { type: 'string', default: '1' },
  set: { type: 'string', multiple: true, default: [] },
  json: { type: 'boolean', default: false },
});
const root = ensureCifar(a.tar);
const registry = createRegistry();
// two datasets: the training subset, and the same classes with a (possibly) different test subset
const dataRef = { type: 'image-folder', root, size: 32, ...(a['per-class'] ? { limit: Number(a['per-class']) } : {}) };
const sets = [
  `data=${JSON.stringify(dataRef)}`,
  'encoder={"type":"resnet","depth":18}',
  'head.hiddenDim=512',
  'head.outDim=128',
  `train.epochs=${a.epochs}`,
  'train.checkpointEvery=0',
  'eval.every=0',
  'eval.final=[{"type":"knn"}]',
  'eval.baseline=true',
  'eval.batchSize=250',
  ...a.set!,
];
const { config } = await resolveExperiment('simclr', { registry, sets });
const backend = await selectBackend(registry, config.backend, log);
log(`backend: ${backend.name} (${backend.details ?? ''})`);
const t0 = performance.now();
const data = await loadDataset(config, registry, log);
if (a['test-per-class'] && data.test) {
  // keep the first N test images of each class
  const n = Number(a['test-per-class']);
  const px = data.info.height * data.info.width * data.info.channels;
  const keep: number[] = [];
  const seen = new Map<number, number>();
  data.test.labels.forEach((l, i) => {
    const c = seen.get(l) ?? 0;
    if (c < n) keep.push(i);
    seen.set(l, c + 1);
  });
  const images = new Uint8Array(keep.length * px);
  keep.forEach((i, j) => images.set(data.test!.images.subarray(i * px, (i + 1) * px), j * px));
  data.test = { images, labels: Int32Array.from(keep, (i) => data.test!.labels[i]), count: keep.length };
}
log(`decoded ${data.train.count} train + ${data.test?.count ?? 0} test images in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const stepTimes: number[] = [];
let last = 0;
const timer = {
  onStepEnd: (r: StepReport) => {
    stepTimes.push(r.elapsedSeconds - last);
    last = r.elapsedSeconds;
  },
};
const result = await train(config, { registry, data, backendReady: backend, callbacks: [await progressCallback(registry, 25), timer], log });
const stepMs = 1000 * median(stepTimes.slice(1));
const rows = [
  ['ResNet-18, random weights', '0', pct(result.eval.random_knn_top1), '-'],
  [`SimCLR ResNet-18, ${result.epochs.toFixed(2)} epoch(s)`, String(result.steps), pct(result.eval.knn_top1), stepMs.toFixed(0)],
];
process.stdout.write(
  `\nCIFAR-10 (${data.train.count} train / ${data.test?.count} test images), batch ${config.train.batchSize} (x2 views), backend ${backend.name}\n\n${markdownTable(['encoder', 'steps', 'kNN top-1', 'median step ms'], rows)}\n`,
);
if (a.json)
  process.stdout.write(
    JSON.stringify({
      bench: 'simclr-cifar',
      backend: backend.name,
      train: data.train.count,
      test: data.test?.count,
      steps: result.steps,
      stepMs,
      knn: result.eval.knn_top1,
      randomKnn: result.eval.random_knn_top1,
    }) + '\n',
  );
process.exit(0);
