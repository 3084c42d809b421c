import { Type } from '@sinclair/typebox';
import { definePlugin, tf, type Scalar, type Tensor, type Tensor2D } from '../../core/index.js';
import { twoViewOptions, twoViews, twoViewsRead } from './view-pairs.js';

/**
 * Barlow Twins (Zbontar et al. 2021, "Barlow Twins: Self-Supervised Learning via Redundancy
 * Reduction", eq. 1 and Algorithm 1). For the embeddings of two views z_a, z_b `[N, D]`, each is
 * batch-normalised along the batch as torch's `BatchNorm1d(D, affine=False)` in training mode does
 * (mean 0, biased variance, eps 1e-5), and with their cross-correlation `C = z_a_n^T z_b_n / N`
 * `[D, D]`:
 *
 *   onDiag  = Σ_i (1 − C_ii)²            (invariance)
 *   offDiag = Σ_{i≠j} C_ij²              (redundancy reduction; NOT multiplied by λ)
 *   loss    = scaleLoss · (onDiag + λ · offDiag)
 *
 * The terms are returned unweighted and unscaled. Identical views whose normalised columns are
 * orthonormal give 0; z_b = −z_a gives onDiag = 4D. The loss is symmetric in the two views.
 *
 * `lambda` is the paper's 5e-3 (the official code's default is 0.0051). `scaleLoss` defaults to 1:
 * the first release of the official code multiplied both terms by a `--scale-loss` (1/32 by default,
 * 0.024 in its README's command) to match the authors' research code; it was removed later. It
 * matters only for parameters whose updates are not normalised (LARS-excluded biases, plain SGD).
 *
 * By default view 0 and view 1 are both read from the online branch (target `shared`, or none);
 * with `branch: "target"`, view 1 is read from the target branch instead.
 *
 * @example { "type": "barlow-twins", "lambda": 0.005 }
 */
export default definePlugin({
  kind: 'loss',
  name: 'barlow-twins',
  description: 'Barlow Twins: cross-correlation of two batch-normalised views pushed to the identity',
  reference: 'Barlow Twins (Zbontar et al. 2021): λ = 5e-3, projector 8192-8192-8192, batch 2048',
  options: Type.Object({
    lambda: Type.Number({ default: 5e-3, minimum: 0, description: 'weight λ of the off-diagonal (redundancy reduction) term' }),
    scaleLoss: Type.Number({ default: 1, exclusiveMinimum: 0, description: 'multiplies the whole loss (the early official code used 1/32)' }),
    eps: Type.Number({ default: 1e-5, minimum: 0, description: "added to the batch variance when normalising (BatchNorm1d's eps)" }),
    ...twoViewOptions,
  }),
  create: (o) => ({
    viewsRead: twoViewsRead(o),
    compute(input) {
      const [a, b] = twoViews(input, o, 'barlow-twins');
      const [n, d] = a.shape;
      const c = tf.div(tf.matMul(batchNorm(a as Tensor2D, o.eps), batchNorm(b as Tensor2D, o.eps), true, false), n);
      const eye = tf.eye(d);
      const onDiag = tf.sum(tf.square(tf.sub(1, tf.sum(tf.mul(c, eye), 1)))) as Scalar;
      // masked rather than Σ C² − Σ C_ii²: no cancellation when the off-diagonal is small
      const offDiag = tf.sum(tf.square(tf.mul(c, tf.sub(1, eye)))) as Scalar;
      const loss = tf.mul(tf.add(onDiag, tf.mul(offDiag, o.lambda)), o.scaleLoss) as Scalar;
      return { loss, terms: { onDiag, offDiag } };
    },
  }),
});

/** `(z − mean) / sqrt(var + eps)` per column, with the biased batch variance (BatchNorm1d, training mode, no affine). */
function batchNorm(z: Tensor2D, eps: number): Tensor {
  const { mean, variance } = tf.moments(z, 0);
  return tf.div(tf.sub(z, mean), tf.sqrt(tf.add(variance, eps)));
}
