import type { EvalContext, Evaluator, FeatureSet } from '../contracts/evaluator.js';
import type { Branch, Encoder } from '../contracts/modules.js';
import type { LoadedDataset } from '../contracts/data.js';
import type { Tensor4D } from '../engine/tf.js';
import { limitSet } from '../data/batch.js';
import { DataError, PluginError } from '../errors.js';
import { readFeatures } from './features.js';

export interface EvalOptions {
  batchSize: number;
  trainLimit?: number;
  seed: number;
  log?: (m: string) => void;
  /** the first task's `Augmenter.evalView`: what the encoder sees at evaluation (default: the images) */
  evalView?: (x: Tensor4D) => Tensor4D;
  /** a new encoder built from the run's encoder config (any weights): `EvalContext.copyEncoder` copies the evaluated encoder's weights into it */
  newEncoder?: () => Promise<Encoder>;
}

/**
 * Run evaluators on a frozen branch. Features are extracted once per (split, h|z) and shared by
 * every evaluator. Without a test split, nothing is evaluated (and a note says so). Evaluators fit
 * on `data.evalTrain` where the dataset gives one (its labelled images), else on `data.train`.
 */
export async function runEvaluators(evaluators: Evaluator[], branch: Branch, data: LoadedDataset, opts: EvalOptions): Promise<Record<string, number>> {
  if (evaluators.length === 0) return {};
  const log = opts.log ?? (() => {});
  if (!data.test) {
    log('no test split: evaluation skipped');
    return {};
  }
  const test = data.test;
  const cache = new Map<string, FeatureSet>();
  const labelled = data.evalTrain ?? data.train;
  const unlabelled = labelled.labels.findIndex((l) => l < 0);
  if (unlabelled >= 0)
    throw new DataError(
      `training image ${unlabelled} has no label (-1) and the dataset gives no labelled evalTrain set: evaluators need labelled training images (a dataset plugin that mixes in unlabelled images must return evalTrain)`,
    );
  const train = limitSet(labelled, data.info, opts.trainLimit);
  const ctx: EvalContext = {
    numClasses: data.info.numClasses,
    seed: opts.seed,
    log,
    info: data.info,
    images: (split) => (split === 'train' ? train : test),
    evalView: opts.evalView ?? ((x) => x),
    copyEncoder: async () => {
      if (!opts.newEncoder) throw new PluginError('this evaluator needs a copy of the encoder, but the evaluation was started without EvalOptions.newEncoder');
      const copy = await opts.newEncoder();
      copy.params.copyFrom(branch.encoder.params);
      return copy;
    },
    features: async (split, which) => {
      const key = `${split}/${which}`;
      let f = cache.get(key);
      if (!f) {
        const t = performance.now();
        f = await readFeatures(branch, split === 'train' ? train : test, data.info, which, opts.batchSize, opts.evalView);
        cache.set(key, f);
        log(`  features ${which} of ${f.count} ${split} images: ${((performance.now() - t) / 1000).toFixed(1)} s`);
      }
      return f;
    },
  };
  const out: Record<string, number> = {};
  for (const e of evaluators) {
    const t = performance.now();
    const m = await e.evaluate(ctx);
    const shown = Object.entries(m).map(([k, v]) => `${k} ${k.endsWith('top1') ? (100 * v).toFixed(2) + '%' : v.toFixed(4)}`);
    log(`  ${shown.join(', ')} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    Object.assign(out, m);
  }
  return out;
}
