/**
 * Layer norm over the last axis as two kernels a backend may provide (the native one does);
 * `layerNorm` (core/nn/transformer.ts) uses them when the active backend has both, and composes
 * tfjs ops otherwise (9 ops forward, 11 backward, each a pass over the tokens).
 *
 * - `SelfsupLayerNorm`: inputs `x` [..., d], `weight` [d], `bias` [d]; attr `eps` -> `y` (x's
 *   shape), `mean` and `rstd` ([m], m = x.size / d; rstd = 1 / sqrt(biased variance + eps)).
 * - `SelfsupLayerNormGrad`: inputs `dy`, `x`, `mean`, `rstd`, `weight` -> `dx` (x's shape),
 *   `dweight` = sum over rows of dy·x̂ and `dbias` = sum over rows of dy ([d] each).
 */
export const LAYER_NORM = 'SelfsupLayerNorm';
export const LAYER_NORM_GRAD = 'SelfsupLayerNormGrad';

export interface LayerNormAttrs {
  eps: number;
}
