import type { Tensor, Tensor2D, Tensor4D } from '../engine/tf.js';
import type { ParamStore } from '../nn/params.js';
import type { Progress } from './schedule.js';

/**
 * The named outputs of a branch for one view, filled as the view goes through it:
 * - `h` `[N, D]`: the encoder's pooled features (what evaluators probe), and `map` `[N, h, w, C]`,
 *   its last spatial feature map (decoders read it);
 * - `z`: the head's output (a projection `[N, D]`, logits `[N, C]` or pixels `[N, H, W, C]`);
 * - `p`: the predictor's output (BYOL, SimSiam, MoCo v3), on the online branch only;
 * - any other name a plugin adds (`tokens`, SwAV's prototype `scores`): a head may return several
 *   named tensors instead of one.
 * Losses and negative sources read outputs by name (`online[v].p`, `target[v].z`).
 */
export type Outputs = Record<string, Tensor>;

/** What an encoder produces for a batch of (normalised) views. */
export interface EncoderOutput extends Outputs {
  /** pooled features `[N, D]`: what evaluators probe */
  h: Tensor2D;
  /** the last spatial feature map `[N, h, w, C]`, for dense heads (decoders) */
  map: Tensor4D;
}

/**
 * What the step hands an encoder besides the images, per view. An augmenter produces these
 * (`AugmentResult.keep`); the step passes them through unchanged.
 */
export interface EncoderInputs {
  /**
   * The tokens to encode, per sample: `[N, K]` int32 indices into the encoder's `T` tokens (its
   * patches, row-major), the rest dropped before the first layer (MAE encodes the 25% it keeps).
   * Only an encoder that declares `dropsTokens` on its definition receives it; validation refuses
   * a task whose augmenter makes `keep` for any other encoder.
   */
  keep?: Tensor2D;
}

/**
 * Encoder plugin: `[N, H, W, C] -> { h: [N, dim], map }`. All parameters live in `params` under
 * stable names, so the framework can clone it (momentum target) and checkpoint it without the
 * plugin's help: a copy is built by calling the plugin's `create` again with the same options.
 */
export interface Encoder {
  readonly params: ParamStore;
  /** size of `h` */
  readonly dim: number;
  /** `inputs`: what the view's augmenter gave besides the images (`keep`), when it gave anything */
  forward(x: Tensor4D, training: boolean, inputs?: EncoderInputs): EncoderOutput;
}

/**
 * Head plugin, in a task's `head` slot (the projector: its output is named `z`) or its `predictor`
 * slot (online branch only: its output is named `p`). `input` holds the branch's outputs so far:
 * the encoder's `h` and `map`, and for a predictor the head's `z` too. A head reads by default the
 * output its slot feeds it, `PluginContext.input` (`h` for a head, `z` for a predictor), of size
 * `PluginContext.inputDim`. It returns one tensor (named by its slot) or several named tensors
 * (which must include the slot's name). `dim` is the size of the last axis of its main output.
 */
export interface Head {
  readonly params: ParamStore;
  readonly dim: number;
  forward(input: Outputs, training: boolean): Tensor | Outputs;
  /** after the optimizer step (SwAV renormalises its prototypes) */
  afterStep?(progress: Progress): void;
}

/**
 * The modules of a branch: the encoder, the task's head (projector) and, on the online branch,
 * an optional predictor. A momentum target copies the encoder and the head, never the predictor.
 */
export interface Branch {
  encoder: Encoder;
  head: Head;
  predictor?: Head;
}
