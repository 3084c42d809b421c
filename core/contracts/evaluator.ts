import type { Tensor4D } from '../engine/tf.js';
import type { DatasetInfo, ImageSet } from './data.js';
import type { Encoder } from './modules.js';

/** Frozen features of one labelled split: `x` is `[count, dim]` row-major. */
export interface FeatureSet {
  x: Float32Array;
  dim: number;
  labels: Int32Array;
  count: number;
}

export interface EvalContext {
  /** features of the frozen encoder (eval mode) on un-augmented, normalised images; cached per run */
  features(split: 'train' | 'test', which: 'h' | 'z'): Promise<FeatureSet>;
  numClasses: number;
  seed: number;
  log(message: string): void;
  /**
   * For evaluators that train the encoder (fine-tuning): the labelled images of a split as stored,
   * uint8 (`train` cut to `eval.trainLimit`). What the encoder is fed is
   * `normalizeImages(ctx.evalView(await readImages(set, ctx.info, indices)), ctx.info)` (`gatherImages`
   * does the same synchronously, for in-memory sets only: a set read on demand has a `source`).
   */
  images(split: 'train' | 'test'): ImageSet;
  /** the dataset's image size, channels, classes and normalisation (mean, std) */
  info: DatasetInfo;
  /** what the encoder sees at evaluation: the first task's `Augmenter.evalView` (identity without one), on [0, 1] images, before normalisation */
  evalView(x: Tensor4D): Tensor4D;
  /**
   * A new encoder with the evaluated encoder's weights (built from the run's encoder config, then
   * every parameter and buffer copied). The evaluated encoder is not touched; the caller owns the
   * copy, may train it, and must `params.dispose()` it.
   */
  copyEncoder(): Promise<Encoder>;
}

/** Evaluator plugin: an encoder -> metrics such as `{ knn_top1: 0.83 }` (fractions in [0, 1]); it must leave the encoder it is given unchanged. */
export interface Evaluator {
  evaluate(ctx: EvalContext): Promise<Record<string, number>>;
}
