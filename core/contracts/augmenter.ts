import type { Tensor, Tensor2D, Tensor4D } from '../engine/tf.js';
import type { Rng } from '../rng.js';

export interface AugmentResult {
  /** one or more views, each `[N, H', W', C]` in [0, 1] (unnormalised); views may differ in size (multi-crop) */
  views: Tensor4D[];
  /** what a predictive task predicts, e.g. `labels` `[N*V]` for rotate4 or `image` and `mask` for inpainting */
  supervision?: Record<string, Tensor>;
  /**
   * per view (aligned with `views`), the tokens the encoder keeps `[N, K]` (MAE's visible patches;
   * see `EncoderInputs.keep`), or undefined for a view encoded whole. The online branch receives it;
   * a target branch sees the whole views. An augmenter that makes it declares `emitsKeep`.
   */
  keep?: Array<Tensor2D | undefined>;
}

/**
 * Augmenter plugin: a batch of images `[N, H, W, C]` in [0, 1] -> views (+ supervision). Every random
 * draw comes from `rng` (the run's seeded augmentation stream), and the work is batched tensor ops.
 * A single transform returns one view; `multi-view` composes transforms into N independent views.
 */
export interface Augmenter {
  apply(x: Tensor4D, rng: Rng): AugmentResult;
  /**
   * What the encoder is evaluated on, for augmenters that change the kind of input it sees:
   * un-augmented images `[N, H, W, C]` in [0, 1] -> the deterministic view (lab-split: the lightness
   * channel). Absent: the images themselves. The evaluators and the random-weights baseline use it.
   */
  evalView?(x: Tensor4D): Tensor4D;
}
