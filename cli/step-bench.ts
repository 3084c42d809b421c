/**
 * Training-step benchmark: the median time of the generic step (forward, backward, update, target and
 * negatives updates) for a preset and encoder, on the active backend. What `selfsup bench` runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildRun, makeBatch, median, packageRoot, progressAt, resolveExperiment, tf, trainStep, Rng, type PluginRegistry } from './api.js';

/** One benchmark case: a preset with an encoder and data. */
export interface StepCase {
  name: string;
  preset: string;
  sets: string[];
  /** images per step when `--batch` is not given: the PyTorch peer's for the same case (default 256) */
  batch?: number;
}

/** 32x32x3 synthetic images (no download), for the ResNet and ViT cases */
const SYNTHETIC_32 = 'data={"type":"synthetic","train":1024,"test":32,"size":32,"channels":3,"classes":10}';

/**
 * The MoCo step of the PyTorch peer benchmark (`peer_simclr_step.py --method moco`): queries from one view, keys from the other with
 * plain batch norm (no Shuffle BN groups), the queue of 4096, T = 0.2, the SimCLR preset's
 * augmentation. The shipped moco-v2 preset also symmetrises the loss (queries from both views:
 * twice the backward work), emulates Shuffle BN and blurs: that is the `moco-v2-preset` case.
 */
const MOCO_AS_PEER = ['loss.symmetric=false', 'target.shuffleGroups=1', '@simclr-augmenter'];

/** `@simclr-augmenter` in a case's sets: the SimCLR preset's augmenter, as a `--set` */
function expandSets(sets: string[]): string[] {
  return sets.map((s) => {
    if (s !== '@simclr-augmenter') return s;
    const preset = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'presets', 'simclr.json'), 'utf8')) as { augmenter: unknown };
    return `augmenter=${JSON.stringify(preset.augmenter)}`;
  });
}

/**
 * The small CNN on the embedded Fashion-MNIST (28x28x1); ResNet-18 and ViT-tiny (patch 4) on
 * 32x32x3 synthetic images, as `peer_simclr_step.py --arch resnet18 | vit-tiny` (SimCLR at batch 64,
 * projector 512 -> 128; MAE at batch 128 with its preset: 75% masked, decoder 4 x 128).
 */
export const STEP_CASES: StepCase[] = [
  { name: 'simclr-smallcnn', preset: 'simclr', sets: [] },
  { name: 'moco-smallcnn', preset: 'moco-v2', sets: MOCO_AS_PEER },
  { name: 'moco-v2-preset-smallcnn', preset: 'moco-v2', sets: [] },
  {
    name: 'simclr-resnet18',
    preset: 'simclr',
    sets: [SYNTHETIC_32, 'encoder={"type":"resnet","depth":18}', 'head.hiddenDim=512'],
  },
  {
    name: 'moco-resnet18',
    preset: 'moco-v2',
    sets: [...MOCO_AS_PEER, SYNTHETIC_32, 'encoder={"type":"resnet","depth":18}', 'head.hiddenDim=512', 'negatives.size=1024'],
  },
  {
    name: 'simclr-vit-tiny',
    preset: 'simclr',
    batch: 64,
    sets: [SYNTHETIC_32, 'encoder={"type":"vit","size":"tiny","patchSize":4}', 'head.hiddenDim=512', 'head.outDim=128'],
  },
  { name: 'mae-vit-tiny', preset: 'mae', batch: 128, sets: [SYNTHETIC_32, 'callbacks=[]'] },
];

export interface StepBenchResult {
  case: string;
  batch: number;
  views: number;
  medianMs: number;
  /** all step times, warm-up included */
  stepsMs: number[];
  viewsPerSecond: number;
  /** live tensors after the first measured step and after the last: equal when nothing leaks */
  tensors: [number, number];
  peakRssMiB: number;
  /** with `profile`: kernels of one extra step by total time (tf.profile), largest first */
  kernels?: KernelTime[];
}

export interface KernelTime {
  name: string;
  calls: number;
  ms: number;
  /** the slowest call's input shapes */
  slowest: string;
}

/** Time `steps` training steps after `warmup`, on fixed batches (augmentation inside the step, as in training). */
export async function benchSteps(
  c: StepCase,
  opts: { registry: PluginRegistry; batch: number; steps: number; warmup: number; profile?: boolean; onStep?: (i: number, total: number, ms: number) => void },
): Promise<StepBenchResult> {
  const { config } = await resolveExperiment(c.preset, { registry: opts.registry, sets: [...expandSets(c.sets), `train.batchSize=${opts.batch}`] });
  const parts = await buildRun(config, { registry: opts.registry });
  const rng = Rng.fromSeed(0, 'bench');
  const total = opts.warmup + opts.steps;
  const times: number[] = [];
  const tensors: number[] = [];
  let views = 0;
  for (let i = 0; i < total; i++) {
    const order = Rng.fromSeed(i, 'bench/batch').permutation(parts.data.train.count).subarray(0, opts.batch);
    const b = makeBatch(parts.data.train, parts.info, order);
    const t = performance.now();
    const r = await trainStep(parts, b, rng, 1, progressAt(i, total, total));
    times.push(performance.now() - t);
    views = r.views;
    b.x.dispose();
    if (i === opts.warmup || i === total - 1) tensors.push(tf.memory().numTensors);
    opts.onStep?.(i + 1, total, times[i]);
  }
  const med = median(times.slice(opts.warmup));
  let kernels: KernelTime[] | undefined;
  if (opts.profile) {
    const b = makeBatch(parts.data.train, parts.info, Rng.fromSeed(total, 'bench/batch').permutation(parts.data.train.count).subarray(0, opts.batch));
    const info = await tf.profile(async () => {
      await trainStep(parts, b, rng, 1, progressAt(total, total + 1, total + 1));
    });
    b.x.dispose();
    const by = new Map<string, KernelTime & { worst: number }>();
    for (const k of info.kernels) {
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      const e = by.get(k.name) ?? { name: k.name, calls: 0, ms: 0, slowest: '', worst: -1 };
      e.calls++;
      e.ms += ms;
      if (ms > e.worst) Object.assign(e, { worst: ms, slowest: JSON.stringify(k.inputShapes) });
      by.set(k.name, e);
    }
    kernels = [...by.values()].sort((a, b) => b.ms - a.ms).map(({ worst: _w, ...k }) => k);
  }
  return {
    kernels,
    case: c.name,
    batch: opts.batch,
    views,
    medianMs: med,
    stepsMs: times,
    viewsPerSecond: (1000 * views) / med,
    tensors: [tensors[0], tensors[tensors.length - 1]],
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}
