import fs from 'node:fs';
import path from 'node:path';
import { DataError, SelfsupError, evalViewOf, limitSet, pct, readFeatures, umap2d, writeAtomic, type FeatureSet, type ImageSet } from '../../core/index.js';
import { knnTop1 } from '../../plugins/evaluators/knn.js';
import { loadCheckpointRun, type ResolveOptions } from '../api.js';
import { indexCsv } from './index-csv.js';
import { NEIGHBOURS_LAYOUT, writeNeighbours } from './neighbours.js';
import { encodeNpy } from './npy.js';
import { StagedDir } from './out-dir.js';
import { embedPage } from './page.js';
import { trainerKnn } from './trainer-knn.js';

/** The kNN that judges the embedded features: cosine, k = 20, votes weighted exp(sim / 0.1) (the knn evaluator's weighting). */
export const EMBED_KNN = { k: 20, temperature: 0.1 } as const;

export interface EmbedOptions extends ResolveOptions {
  /** the directory to write (default `<checkpoint>/embed`) */
  out?: string;
  /** replace an existing non-empty `out` */
  force?: boolean;
  /** the split to embed (default test) */
  split?: 'train' | 'test';
  /** embed only its first N images */
  limit?: number;
  /** a dataset config replacing the checkpoint's (`--data`, the same as `--set data=...`): an object or its JSON */
  data?: string | Record<string, unknown>;
  /** overrides the config's backend */
  backend?: string;
  /** UMAP optimisation epochs (default: umap-js's, 500 up to 2,500 points) */
  umapEpochs?: number;
  log?: (m: string) => void;
  /** called as features are extracted (per batch) and per UMAP epoch */
  progress?: (stage: string, done: number, total: number) => void;
}

export interface EmbedResult {
  out: string;
  split: 'train' | 'test';
  /** images embedded (rows of features.npy) */
  n: number;
  /** feature size (columns) */
  d: number;
  /** kNN top-1 (k = 20, cosine) of the test features against the train features; undefined without a test split */
  knn_top1?: number;
  knn_k: number;
  /** the trainer's own kNN top-1 at this checkpoint's step (result.json or metrics.jsonl), where the run directory has it */
  trainer_knn_top1?: number;
  trainer_knn_k?: number;
  /** these features' kNN top-1 with the trainer's k and temperature (equals trainer_knn_top1 when they are the features it evaluated) */
  knn_top1_trainer_k?: number;
  preset: string;
  step: number;
  seconds: number;
  files: string[];
}

/**
 * Embed a split of a checkpoint's dataset with its trained encoder: the features `h` the trainer's
 * evaluators see (eval mode, the task's eval view, normalised images), written to `out` as
 * `features.npy` ([N, D] float32) and `index.csv`, with `neighbours.png` (8 queries and their 8
 * nearest neighbours by cosine similarity), a 2-D UMAP (`umap.json`) and `index.html` showing both
 * beside a kNN top-1 of the features. The kNN classifies the test features against the train
 * features: the embedded split's (cut to `limit`) and the other split's (the train split cut to
 * `eval.trainLimit`, as the evaluators do). `out` is written whole or not at all.
 */
export async function embedCheckpoint(dir: string, opts: EmbedOptions = {}): Promise<EmbedResult> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const split = opts.split ?? 'test';
  if (split !== 'train' && split !== 'test') throw new SelfsupError(`--split ${String(split)}: give train or test`, 2);
  if (opts.limit !== undefined && !(Number.isInteger(opts.limit) && opts.limit >= 1))
    throw new SelfsupError(`--limit ${opts.limit}: give a whole number >= 1`, 2);
  const out = path.resolve(opts.out ?? path.join(dir, 'embed'));
  StagedDir.check(out, opts.force);
  const dataSet = opts.data === undefined ? [] : [`data=${typeof opts.data === 'string' ? opts.data : JSON.stringify(opts.data)}`];
  const { meta, config, parts } = await loadCheckpointRun(dir, { ...opts, sets: [...(opts.sets ?? []), ...dataSet], log });
  const { data, info } = parts;
  if (split === 'test' && !data.test) throw new DataError(`the dataset (${config.data.type}) has no test split: embed the training split with --split train`);
  const branch = parts.tasks[0].branch;
  const view = evalViewOf(parts);
  const sets: Partial<Record<'train' | 'test', ImageSet>> = {
    // the labelled training images, as the evaluators take them
    train: limitSet(data.evalTrain ?? data.train, info, split === 'train' ? opts.limit : config.eval.trainLimit),
    test: data.test && limitSet(data.test, info, split === 'test' ? opts.limit : undefined),
  };
  const features = async (which: 'train' | 'test'): Promise<FeatureSet> => {
    const t = performance.now();
    const f = await readFeatures(branch, sets[which]!, info, 'h', config.eval.batchSize, view, (done, total) =>
      opts.progress?.(`features ${which}`, done, total),
    );
    log(`features h of ${f.count} ${which} images: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    return f;
  };
  const embedded = await features(split);
  const other = split === 'test' ? 'train' : 'test';
  const reference = sets[other] ? await features(other) : undefined;
  const [trainF, testF] = split === 'test' ? [reference, embedded] : [embedded, reference];
  const knn = trainF && testF ? await knnTop1(trainF, testF, info.numClasses, EMBED_KNN.k, EMBED_KNN.temperature) : undefined;
  const trainer = trainerKnn(dir, meta.step, config);
  // the same kNN as the trainer's (its k and temperature) on these features: equal to the trainer's
  // number when the features are the ones it evaluated
  const knnAtTrainerK = trainer && trainF && testF ? await knnTop1(trainF, testF, info.numClasses, trainer.k, trainer.temperature) : undefined;

  const staged = StagedDir.open(out, opts.force);
  try {
    const set = sets[split]!;
    writeAtomic(staged.file('features.npy'), encodeNpy(embedded.x, [embedded.count, embedded.dim]));
    const indices = Array.from({ length: embedded.count }, (_, i) => i);
    writeAtomic(staged.file('index.csv'), indexCsv({ indices, labels: embedded.labels, classNames: info.classNames, paths: set.paths }));
    const nb = await writeNeighbours(set, info, embedded, staged.file('neighbours.png'));
    const { points, params } = await umap2d(embedded, {
      seed: config.seed,
      epochs: opts.umapEpochs,
      onEpoch: (e, total) => opts.progress?.('umap', e, total),
    });
    writeAtomic(
      staged.file('umap.json'),
      JSON.stringify({ params: { ...params, metric: 'cosine', seed: config.seed }, points, labels: Array.from(embedded.labels), indices }),
    );
    const classNames = info.classNames ?? Array.from({ length: info.numClasses }, (_, i) => `class ${i}`);
    const { queries, neighbours, scale } = NEIGHBOURS_LAYOUT;
    const html = embedPage({
      title: `${config.name}: ${embedded.count} ${split} images of ${info.name}`,
      points,
      labels: Array.from(embedded.labels),
      indices,
      classNames,
      neighboursImage: 'neighbours.png',
      caption: `${Math.min(queries, embedded.count)} queries (images ${nb.queries.join(', ')}), each followed by its ${Math.min(neighbours, embedded.count - 1)} nearest neighbours by cosine similarity of h (itself excluded); green: the query's label, red: another (x${scale}).`,
      table: [
        ['images (N)', String(embedded.count)],
        ['feature size (D)', String(embedded.dim)],
        [`kNN top-1 of these features (k=${EMBED_KNN.k}, cosine, test vs train)`, knn === undefined ? 'n/a (no test split)' : pct(knn)],
        [`the trainer's kNN top-1${trainer ? ` (k=${trainer.k}, ${trainer.source})` : ''}`, trainer ? pct(trainer.top1) : 'not recorded in the run directory'],
        ...(knnAtTrainerK === undefined
          ? []
          : [[`kNN top-1 of these features with the trainer's k=${trainer!.k}, T=${trainer!.temperature}`, pct(knnAtTrainerK!)] as [string, string]]),
        ['checkpoint', path.resolve(dir)],
        ['preset', config.name],
        ['step', `${meta.step} (epoch ${meta.epoch})`],
        ['encoder', config.encoder.type],
        ['UMAP', `nNeighbors ${params.nNeighbors}, minDist ${params.minDist}, ${params.epochs} epochs, seed ${config.seed}`],
      ],
    });
    writeAtomic(staged.file('index.html'), html);
    const files = fs.readdirSync(staged.staging).sort();
    staged.commit(opts.force);
    const seconds = (performance.now() - t0) / 1000;
    log(`wrote ${files.join(', ')} to ${out}`);
    return {
      out,
      split,
      n: embedded.count,
      d: embedded.dim,
      knn_top1: knn,
      knn_k: EMBED_KNN.k,
      trainer_knn_top1: trainer?.top1,
      trainer_knn_k: trainer?.k,
      knn_top1_trainer_k: knnAtTrainerK,
      preset: config.name,
      step: meta.step,
      seconds,
      files: files.map((f) => path.join(out, f)),
    };
  } catch (e) {
    staged.discard();
    throw e;
  }
}
