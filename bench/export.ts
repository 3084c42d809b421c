/**
 * Exports side by side (issue 15's export check): the small CNN (SimCLR on the embedded
 * Fashion-MNIST) and ResNet-18 (SimCLR on CIFAR-10 32x32), each trained `--steps` steps so that
 * its batch-norm statistics have moved, then exported to ONNX and to a tfjs graph model. For each:
 * the largest difference from selfsup's features on 16 images, the file sizes, and the median
 * inference time of a batch of `--batch` images in onnxruntime-node (CPU, its default threads).
 *
 *   node dist/bench/export.js [--steps 20] [--batch 256] [--reps 5] [--cases small-cnn,resnet18] [--out DIR] [--json]
 *
 * CIFAR-10 comes from ../shared/datasets/cifar10-jpeg.tar.gz (extracted into .bench/).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { exportCheckpoint, markdownTable, median, runExperiment } from '../cli/api.js';
import { benchArgs, ensureCifar, log } from './common.js';

const a = benchArgs({
  steps: { type: 'string', default: '20' },
  batch: { type: 'string', default: '256' },
  reps: { type: 'string', default: '5' },
  cases: { type: 'string', default: 'small-cnn,resnet18' },
  out: { type: 'string' },
  json: { type: 'boolean', default: false },
});
const steps = Number(a.steps);
const batch = Number(a.batch);
const reps = Number(a.reps);
const CASES: Record<string, () => { preset: string; sets: string[]; shape: [number, number, number] }> = {
  'small-cnn': () => ({ preset: 'simclr', sets: [], shape: [28, 28, 1] }),
  resnet18: () => ({
    preset: 'simclr',
    sets: [
      `data={"type":"image-folder","root":${JSON.stringify(ensureCifar())},"size":32,"limit":100}`,
      'encoder={"type":"resnet","depth":18}',
      'train.batchSize=64',
    ],
    shape: [32, 32, 3],
  }),
};
const names = a.cases!.split(',');
for (const n of names) if (!CASES[n]) throw new Error(`unknown case '${n}' (cases: ${Object.keys(CASES).join(', ')})`);
const root = a.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-bench-export-'));
const rows: Array<Array<string | number>> = [];
const results: Array<Record<string, unknown>> = [];

for (const name of names) {
  const c = CASES[name]();
  const dir = path.join(root, name);
  log(`${name}: training ${steps} steps ...`);
  await runExperiment(c.preset, {
    sets: [...c.sets, `train.maxSteps=${steps}`, 'train.epochs=1000', 'eval.every=0', 'eval.final=[]'],
    outDir: dir,
    log: () => {},
  });
  log(`${name}: exporting ...`);
  const onnxR = await exportCheckpoint(dir, { format: 'onnx', log });
  const tfjsR = await exportCheckpoint(dir, { format: 'tfjs', log });
  const [h, w, ch] = c.shape;
  const px = Float32Array.from({ length: batch * h * w * ch }, () => Math.random());
  // onnxruntime-node: NCHW input, CPU execution provider with its default threads
  const session = await ort.InferenceSession.create(onnxR.files[0].path);
  const feed = { pixels: new ort.Tensor('float32', px, [batch, ch, h, w]) };
  await session.run(feed);
  const ortMs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await session.run(feed);
    ortMs.push(performance.now() - t0);
  }
  await session.release();
  const kib = (b: number) => (b / 1024).toFixed(0);
  const r = {
    case: name,
    onnxMaxAbsDiff: onnxR.check?.maxAbsDiff.h,
    tfjsMaxAbsDiff: tfjsR.check?.maxAbsDiff.h,
    onnxBytes: onnxR.files[0].bytes,
    tfjsBytes: tfjsR.files.reduce((s, f) => s + f.bytes, 0),
    onnxNodes: onnxR.nodes,
    ortMs: median(ortMs),
    batch,
  };
  results.push(r);
  rows.push([name, r.onnxMaxAbsDiff!.toExponential(2), r.tfjsMaxAbsDiff!.toExponential(2), kib(r.onnxBytes), kib(r.tfjsBytes), r.ortMs.toFixed(0)]);
  log(`${name}: onnxruntime-node ${r.ortMs.toFixed(0)} ms for ${batch} images`);
}

process.stdout.write(
  `\n${markdownTable(['encoder', 'ONNX max |Δ| (16 images)', 'tfjs max |Δ|', 'ONNX KiB', 'tfjs KiB', `onnxruntime-node ms / ${batch} images`], rows)}\n(runs in ${root})\n`,
);
if (a.json) process.stdout.write(JSON.stringify({ cpu: os.cpus()[0]?.model, results }) + '\n');
