import { tf } from '../engine/tf.js';
import type { Branch } from '../contracts/modules.js';
import type { ResolvedConfig } from '../config/experiment.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { Rng } from '../rng.js';
import { normalizeImages, readImages } from '../data/batch.js';
import { evalViewOf, mapShapeOf, taskPath, type RunParts } from '../train/build.js';
import { runEvaluators } from './evaluate.js';
import { runBranch } from '../train/branch.js';

/**
 * The "random weights" baseline: a fresh copy of the run's encoder and first head, built from the
 * same options and seed (so with exactly the run's initial weights), batch-norm statistics set by
 * one training-mode pass over the training set, then scored by the final evaluators. Metrics are
 * prefixed `random_` (`random_knn_top1`). The run's own parameters are not touched.
 */
export async function randomWeightsBaseline(
  parts: RunParts,
  config: ResolvedConfig,
  registry: PluginRegistry,
  log: (m: string) => void = () => {},
): Promise<Record<string, number>> {
  const task = Object.values(config.tasks)[0];
  const headPath = `${taskPath(config, parts.tasks[0].name)}/head`;
  const ctx = (path: string) => ({ seed: config.seed, rng: Rng.fromSeed(config.seed, path), path, registry, log, dataset: parts.info });
  const encoder = await registry.create('encoder', config.encoder, ctx('/encoder'));
  const head = await registry.create('head', task.head, {
    ...ctx(headPath),
    encoder: { dim: encoder.dim, mapShape: mapShapeOf(encoder, parts.info) },
    input: 'h',
    inputDim: encoder.dim,
  });
  const branch: Branch = { encoder, head };
  const { train } = parts.data;
  const bs = config.eval.batchSize;
  const evalView = evalViewOf(parts) ?? ((x) => x);
  for (let s = 0; s < train.count; s += bs) {
    const idx = Int32Array.from({ length: Math.min(bs, train.count - s) }, (_, i) => s + i);
    const x = await readImages(train, parts.info, idx);
    tf.tidy(() => {
      runBranch(branch, normalizeImages(evalView(x), parts.info), true, false);
    });
    x.dispose();
  }
  const m = await runEvaluators(parts.final, branch, parts.data, {
    batchSize: bs,
    trainLimit: config.eval.trainLimit,
    seed: config.seed,
    log,
    evalView,
    newEncoder: parts.newEncoder,
  });
  encoder.params.dispose();
  head.params.dispose();
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [`random_${k}`, v]));
}
