import type { Scalar, Tensor, Tensor2D } from '../engine/tf.js';
import type { Branch, Outputs } from './modules.js';
import type { NamedState } from './state.js';
import type { Progress } from './schedule.js';

/**
 * Negatives for a contrastive loss: a set of embeddings shared by every query of the batch.
 * `owner[k]` is the dataset index embedding k belongs to; a loss ignores the ones owned by the
 * query's own sample (in-batch: the query itself and its other views; memory bank: its own entry).
 */
export interface Negatives {
  /** `[K, D]`, L2-normalised or not (info-nce normalises) */
  embeddings: Tensor2D;
  owner?: Int32Array;
  /** the positive of each sample `[N, D]` when the source supplies it (NPID: the bank entry) */
  positives?: Tensor2D;
}

/**
 * What a step knows of its views once they are encoded, as every plugin after the encoder sees it:
 * `online[v]` and `target[v]` are the named outputs of view v on the online and the target branch.
 */
export interface EncodedViews {
  /** online outputs per view (`h`, `z`, `p`, ...), with gradient; undefined at views not encoded (see `Loss.viewsRead`) */
  online: Outputs[];
  /** target outputs per view (`h`, `z`), if the task has a target branch; undefined at views not encoded */
  target?: Outputs[];
  /** dataset index of each sample, `[N]` */
  index: Int32Array;
}

/**
 * NegativeSource plugin: where negatives come from, and how it updates after a step.
 * `update` receives detached outputs (no gradient) after the optimizer step; the step awaits it,
 * so it may read a value back with `await tensor.data()` (a queue's write pointer), which every
 * backend supports, where `dataSync` is wrong on some (WebGPU in a browser without a working
 * synchronous read).
 */
export interface NegativeSource extends Partial<NamedState> {
  negatives(input: EncodedViews): Negatives | undefined;
  update?(input: EncodedViews): void | Promise<void>;
  /**
   * false when neither `negatives` nor `update` reads `online` (a momentum queue reads the target
   * only). Only then may the step skip encoding views the loss does not read (`Loss.viewsRead`).
   * Default: true.
   */
  readsOnline?: boolean;
}

/**
 * Target plugin: the target branch. `shared` returns the online outputs (optionally detached),
 * `momentum` an EMA copy's outputs, `none` nothing. A target that does not read the online outputs
 * is run before the gradient tape, so nothing of its forward pass is kept for the backward pass.
 */
export interface TargetBranch extends Partial<NamedState> {
  /** called once with the online branch and a factory for fresh copies of its encoder and head */
  attach(online: Branch, makeCopy: () => Promise<Branch>): Promise<void>;
  /**
   * Target outputs for the views. `online` is the online branch's outputs for the same views (with
   * gradient), given only when `readsOnline`; `forward` runs a branch's encoder and head (never a
   * predictor) on the views, one forward pass per resolution.
   */
  outputs(views: Tensor[], online: Outputs[] | undefined, forward: (branch: Branch, views: Tensor[]) => Outputs[]): Outputs[] | undefined;
  /** after the optimizer step (the EMA update) */
  afterStep?(progress: Progress): void;
  /** true when the target outputs are made from the online outputs (`shared`): every view is then encoded online, inside the tape */
  readsOnline?: boolean;
}

export interface LossInput extends EncodedViews {
  negatives?: Negatives;
  /** what a predictive task predicts, from the augmenter: rotate4's `labels`, mask-region's `image` and `mask` */
  supervision?: Record<string, Tensor>;
  /** where training stands (a warm-up of a temperature, DINO) */
  progress: Progress;
}

/** A loss value, alone or with named terms (VICReg's invariance, variance, covariance) that are logged and stored. */
export type LossOutput = Scalar | { loss: Scalar; terms: Record<string, Scalar> };

/** Loss plugin: outputs (+ negatives, supervision) -> scalar. Losses with state (a colour prior, DINO's centre) expose it for checkpoints. */
export interface Loss extends Partial<NamedState> {
  compute(input: LossInput): LossOutput;
  /**
   * Which views `compute` reads, by index, on each branch (default: every view of both). When the
   * target does not read the online outputs and the negative source does not read `online`, the
   * step encodes only these views (MoCo with one query view: half the online work, half the target's).
   */
  viewsRead?(views: number): { online: number[]; target: number[] };
  /** after the optimizer step, outside the gradient tape (state updates: a colour prior, DINO's centre) */
  afterStep?(progress: Progress): void;
}
