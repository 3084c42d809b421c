import type { Variable } from '../engine/tf.js';

/** Plugins with state beyond their parameters (queues, banks, EMA copies) expose it for checkpoints. */
export interface NamedState {
  /** every tensor of the state, by a stable name; restored with `assign` into the same variables */
  state(): Map<string, Variable>;
}
