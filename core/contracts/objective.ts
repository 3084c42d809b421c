import type { Scalar, Tensor, Tensor2D } from '../engine/tf.js';
import type { Branch } from './modules.js';
import type { NamedState } from './state.js';
import type { Progress } from './schedule.js';

/**
 * Negatives for a contrastive loss: a set of keys shared by every query of the batch.
 * `owner[k]` is the dataset index key k belongs to; a loss ignores the keys owned by the query's own
 * sample (in-batch: the query itself and its other views; memory bank: its own entry).
 */
export interface Negatives {
  /** `[K, D]`, L2-normalised or not (info-nce normalises) */
  keys: Tensor2D;
  owner?: Int32Array;
  /** the positive key of each sample `[N, D]` when the source supplies it (NPID: the bank entry) */
  positives?: Tensor2D;
}

export interface NegativeInput {
  /** online outputs, one `[N, D]` per view */
  queries: Tensor2D[];
  /** target-branch outputs, one `[N, D]` per view, if the task has a target */
  keys?: Tensor2D[];
  /** dataset index of each sample, `[N]` */
  index: Int32Array;
}

/**
 * NegativeSource plugin: where negatives come from, and how it updates after a step.
 * `update` receives detached keys (no gradient) after the optimizer step.
 */
export interface NegativeSource extends Partial<NamedState> {
  negatives(input: NegativeInput): Negatives | undefined;
  update?(input: NegativeInput): void;
  /**
   * false when neither `negatives` nor `update` reads `queries` (a momentum queue reads keys only).
   * Only then may the step skip encoding views the loss does not read (`Loss.viewsRead`), and the
   * `queries` and `keys` it passes may have holes (undefined) at the skipped views. Default: true.
   */
  readsQueries?: boolean;
}

/**
 * Target plugin: the key branch. `shared` returns the online outputs, `momentum` an EMA copy's
 * outputs (no gradient), `none` nothing.
 */
export interface TargetBranch extends Partial<NamedState> {
  /** called once with the online branch and a factory for fresh copies of it */
  attach(online: Branch, makeCopy: () => Promise<Branch>): Promise<void>;
  /**
   * Keys for the views. `onlineOutputs` are the online branch's outputs for the same views (with
   * gradient); `forward` runs a branch on the views (concatenated, as the online branch does).
   */
  keys(
    views: Tensor[],
    onlineOutputs: Tensor2D[],
    forward: (branch: Branch, views: Tensor[]) => Tensor2D[],
  ): Tensor2D[] | undefined;
  /** after the optimizer step (EMA update) */
  update?(progress: Progress): void;
  /** true when the keys are the online outputs themselves (`shared`): every view is then encoded online */
  readsOnline?: boolean;
}

export interface LossInput {
  /**
   * online head outputs, one per view: `[N, D]` embeddings, `[N, C]` logits or `[N, H, W, C]` pixels.
   * With `Loss.viewsRead`, views it does not list may be undefined (not encoded).
   */
  outputs: Tensor[];
  /** target outputs, one per view (with `Loss.viewsRead`: undefined where not listed) */
  keys?: Tensor2D[];
  negatives?: Negatives;
  targets?: Record<string, Tensor>;
  index: Int32Array;
}

/** Loss plugin: outputs (+ keys, negatives, targets) -> scalar. Losses with state (a colour prior, DINO's centre) expose it for checkpoints. */
export interface Loss extends Partial<NamedState> {
  compute(input: LossInput): Scalar;
  /**
   * Which views `compute` reads, by index: online `outputs` and target `keys` (default: every view
   * of both). When the target does not read the online outputs and the negative source does not
   * read queries, the step encodes only these views (MoCo with one query view: half the online
   * work, half the key work).
   */
  viewsRead?(views: number): { outputs: number[]; keys: number[] };
}
