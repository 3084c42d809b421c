/**
 * Median training-step time of presets at the same batch on the same backend (e.g. MoCo v2 vs
 * SimCLR: the queue should cost no more than the extra key forward pass).
 *
 *   node dist/bench/step-time.js [--presets simclr,moco-v2] [--batch 256] [--steps 10] [--warmup 3] [--json]
 */
import { parseArgs } from 'node:util';
import { buildRun, createRegistry, makeBatch, resolveExperiment, selectBackend, tf, trainStep, Rng } from '../cli/api.js';
import { log, markdownTable, median } from './common.js';

const { values: a } = parseArgs({
  options: {
    presets: { type: 'string', default: 'simclr,moco-v2' },
    batch: { type: 'string', default: '256' },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    set: { type: 'string', multiple: true, default: [] },
    json: { type: 'boolean', default: false },
  },
});
const registry = createRegistry();
const backend = await selectBackend(registry, 'auto', log);
const rows: Array<Array<string | number>> = [];
const out: Record<string, number> = {};
for (const preset of a.presets!.split(',')) {
  const { config } = await resolveExperiment(preset, { registry, sets: [`train.batchSize=${a.batch}`, ...a.set!] });
  const parts = await buildRun(config, { registry });
  const rng = Rng.fromSeed(0);
  const n = Number(a.batch);
  const times: number[] = [];
  const total = Number(a.warmup) + Number(a.steps);
  for (let i = 0; i < total; i++) {
    const b = makeBatch(parts.data.train, parts.info, Rng.fromSeed(i, 'batch').permutation(parts.data.train.count).subarray(0, n));
    const t = performance.now();
    trainStep(parts, b, rng, 1e-3, { step: i, totalSteps: total, epoch: 0, stepsPerEpoch: total });
    times.push(performance.now() - t);
    b.x.dispose();
    log(`${preset}: step ${i + 1}/${total} ${times.at(-1)!.toFixed(0)} ms`);
  }
  const med = median(times.slice(Number(a.warmup)));
  out[preset] = med;
  rows.push([preset, n, med.toFixed(0), Math.round((1000 * n * 2) / med), tf.memory().numTensors]);
}
process.stdout.write(`\nbackend ${backend.name} (${backend.details ?? ''}), median of ${a.steps} steps after ${a.warmup} warm-up\n\n`);
process.stdout.write(markdownTable(['preset', 'batch', 'median step ms', 'views/s', 'live tensors'], rows) + '\n');
if (a.json) process.stdout.write(JSON.stringify({ bench: 'step-time', backend: backend.name, batch: Number(a.batch), medianMs: out }) + '\n');
process.exit(0);
