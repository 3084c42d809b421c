/**
 * The seed's comparison of where negatives come from (MoCo, He et al. 2020, figure 3): end-to-end
 * in-batch negatives (SimCLR; their number is tied to the batch), an NPID memory bank, and a MoCo
 * momentum queue, each at two sizes of the negative set, same encoder, head, augmentation,
 * temperature and time budget. Prints the table of kNN and linear-probe top-1.
 *
 *   node dist/bench/negatives.js [--budget 240] [--small 256] [--large 4096] [--data DIR] [--only in-batch|memory-bank|momentum-queue] [--json]
 *
 * Without --data it uses the embedded Fashion-MNIST subset (6,000 train / 1,000 test images). The
 * large in-batch run is capped at --max-batch (512: 1,022 negatives), what fits in wasm's memory.
 */
import { createRegistry, loadDataset, progressCallback, resolveExperiment, selectBackend, train, markdownTable } from '../cli/api.js';
import { benchArgs, log, pct } from './common.js';

const a = benchArgs({
  budget: { type: 'string', default: '240' },
  small: { type: 'string', default: '256' },
  large: { type: 'string', default: '4096' },
  data: { type: 'string' },
  only: { type: 'string' },
  'max-batch': { type: 'string', default: '512' },
  set: { type: 'string', multiple: true, default: [] },
  json: { type: 'boolean', default: false },
});
const [small, large] = [Number(a.small), Number(a.large)];
// in-batch: 2B - 2 negatives per query, so B = (K + 2) / 2 gives the same count, up to the largest
// batch that fits in memory (wasm's heap is 4 GB: 4096 in-batch negatives would need B = 2049)
const batchFor = (k: number) => Math.min(Number(a['max-batch']), Math.max(2, Math.round((k + 2) / 2)));
const runs = [
  { method: 'in-batch', k: 2 * batchFor(small) - 2, sets: ['negatives={"type":"in-batch"}', 'target={"type":"shared"}', `train.batchSize=${batchFor(small)}`] },
  { method: 'in-batch', k: 2 * batchFor(large) - 2, sets: ['negatives={"type":"in-batch"}', 'target={"type":"shared"}', `train.batchSize=${batchFor(large)}`] },
  { method: 'memory-bank', k: small, sets: [`negatives={"type":"memory-bank","negatives":${small}}`, 'target={"type":"none"}', 'augmenter.views=1'] },
  { method: 'memory-bank', k: large, sets: [`negatives={"type":"memory-bank","negatives":${large}}`, 'target={"type":"none"}', 'augmenter.views=1'] },
  {
    method: 'momentum-queue',
    k: small,
    sets: [`negatives={"type":"momentum-queue","size":${small}}`, 'target={"type":"momentum","momentum":0.99,"shuffleGroups":4}'],
  },
  {
    method: 'momentum-queue',
    k: large,
    sets: [`negatives={"type":"momentum-queue","size":${large}}`, 'target={"type":"momentum","momentum":0.99,"shuffleGroups":4}'],
  },
].filter((r) => !a.only || r.method === a.only);

const common = [
  'loss.temperature=0.2',
  'train.checkpointEvery=0',
  'train.epochs=1000',
  `train.maxSeconds=${a.budget}`,
  'eval.every=0',
  'eval.final=[{"type":"knn"},{"type":"linear-probe"}]',
  'eval.baseline=false',
  ...(a.data ? [`data.dir=${a.data}`] : []),
  ...a.set!,
];
const registry = createRegistry();
const backend = await selectBackend(registry, 'auto', log);
const first = await resolveExperiment('simclr', { registry, sets: common });
const data = await loadDataset(first.config, registry, log);
const rows: Array<Array<string | number>> = [];
const results: unknown[] = [];
for (const r of runs) {
  log(`\n== ${r.method}, ${r.k} negatives per query, ${a.budget} s ==`);
  const { config } = await resolveExperiment('simclr', { registry, sets: [...common, ...r.sets] });
  const res = await train(config, { registry, data, backendReady: backend, callbacks: [await progressCallback(registry, 50)], log });
  rows.push([r.method, r.k, config.train.batchSize, res.steps, pct(res.eval.knn_top1), pct(res.eval.linear_top1)]);
  results.push({ method: r.method, negatives: r.k, batch: config.train.batchSize, steps: res.steps, ...res.eval });
}
process.stdout.write(`\n${data.train.count} train / ${data.test?.count} test images, ${a.budget} s of training each, T = 0.2, backend ${backend.name}\n\n`);
process.stdout.write(markdownTable(['negatives from', 'negatives per query', 'batch', 'steps', 'kNN top-1', 'linear top-1'], rows) + '\n');
if (a.json) process.stdout.write(JSON.stringify({ bench: 'negatives', budget: Number(a.budget), results }) + '\n');
process.exit(0);
