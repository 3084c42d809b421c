import type { Tensor } from '../engine/tf.js';
import type { Param } from '../nn/params.js';
import type { NamedState } from './state.js';

/**
 * Optimizer plugin. `init` receives every trainable parameter once (and creates its slots, so that
 * a checkpoint can restore them before the first step); `apply` updates them from gradients.
 */
export interface Optimizer extends NamedState {
  init(params: Param[]): void;
  /** `grads` by parameter name; `lr` already includes the schedule */
  apply(grads: Map<string, Tensor>, lr: number): void;
  /** base learning rate from the options */
  readonly lr: number;
}
