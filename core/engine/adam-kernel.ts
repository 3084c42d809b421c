/**
 * One Adam / AdamW update of a parameter as a kernel a backend may provide (the native one does):
 * the `adam` and `adamw` optimizers (plugins/optimizers/adam.ts) use it when the active backend has
 * it, and compose 14-16 tfjs ops per parameter otherwise (each a pass over the parameter; a ViT-tiny
 * has 207 parameters, so about 3,000 kernel calls a step).
 *
 * `SelfsupAdamStep`: inputs `param`, `grad`, `m`, `v` (one shape) and the scalar bias corrections
 * `c1` = 1 - beta1^t and `c2` = 1 - beta2^t (tensors: the step count stays on the device); attrs
 * `AdamStepAttrs` -> the new `param`, `m` and `v`, by the same formula, in the same order, as the
 * composed ops:
 *   g' = g + wd·p (L2, not decoupled)          m' = beta1·m + (1 - beta1)·g'
 *   v' = beta2·v + (1 - beta2)·g'²             p' = p - lr·(m'/c1) / (sqrt(v'/c2) + eps)
 *   p' = p' - lr·wd·p (decoupled, AdamW)
 */
export const ADAM_STEP = 'SelfsupAdamStep';

export interface AdamStepAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decoupled: boolean;
}
