import type { Tensor, Tensor2D, Tensor4D } from '../engine/tf.js';
import type { ParamStore } from '../nn/params.js';

/** What an encoder produces for a batch of (normalised) views. */
export interface EncoderOutput {
  /** pooled features `[N, D]`: what evaluators probe */
  h: Tensor2D;
  /** the last spatial feature map `[N, h, w, C]`, for dense heads (decoders) */
  map: Tensor4D;
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
  forward(x: Tensor4D, training: boolean): EncoderOutput;
}

/** Head plugin: encoder output -> `z` (projection), logits or pixels. `dim` is the size of its output's last axis. */
export interface Head {
  readonly params: ParamStore;
  readonly dim: number;
  forward(input: EncoderOutput, training: boolean): Tensor;
}

/** An encoder with its head: the online branch of a task, or a copy of it. */
export interface Branch {
  encoder: Encoder;
  head: Head;
}
