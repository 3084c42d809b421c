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
}

/** Evaluator plugin: a frozen encoder -> metrics such as `{ knn_top1: 0.83 }` (fractions in [0, 1]). */
export interface Evaluator {
  evaluate(ctx: EvalContext): Promise<Record<string, number>>;
}
