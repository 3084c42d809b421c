import type { Tensor } from '../engine/tf.js';
import type { Param } from '../nn/params.js';
import type { NamedState } from './state.js';

/** What applies to one parameter at a step, once its parameter group and the schedules are applied. */
export interface ParamHyper {
  /** learning rate, schedule included */
  lr: number;
  /** weight decay (0 for biases and batch-norm parameters unless a group says otherwise) */
  weightDecay: number;
  /** LARS: the layer-wise trust ratio applies (false for biases and batch norm, as SimCLR and BYOL) */
  adapt: boolean;
}

/**
 * Optimizer plugin. `init` receives every trainable parameter once (and creates its slots, so that
 * a checkpoint can restore them before the first step); `apply` updates them from gradients.
 * A parameter with no gradient in `grads` (frozen this step) is left untouched, slots included.
 */
export interface Optimizer extends NamedState {
  init(params: Param[]): void;
  /** `grads` by parameter name; `hyper(name)` gives that parameter's learning rate and decay for this step */
  apply(grads: Map<string, Tensor>, hyper: (name: string) => ParamHyper): void;
  /** base learning rate from the options */
  readonly lr: number;
  /** base weight decay from the options (read at each step: a schedule on `optimizer.weightDecay` moves it) */
  readonly weightDecay: number;
}
