import { Type } from '@sinclair/typebox';
import { definePlugin, tf, type Scalar, type Tensor, type Tensor2D } from '../../core/index.js';
import { twoViewOptions, twoViews, twoViewsRead } from './view-pairs.js';

/**
 * VICReg (Bardes, Ponce & LeCun 2022, "VICReg: Variance-Invariance-Covariance Regularization for
 * Self-Supervised Learning", eq. 1-6 and Algorithm 1). For the embeddings of two views z, z' `[N, D]`:
 *
 *   invariance = mean_{n,d} (z − z')²                                   (F.mse_loss)
 *   v(Z)       = mean_d relu(1 − sqrt(Var_n(Z_d) + eps))                 (Var unbiased, /(N−1))
 *   variance   = (v(z) + v(z')) / 2
 *   c(Z)       = Σ_{i≠j} Cov(Z)_ij² / D,   Cov(Z) = (Z − mean)^T (Z − mean) / (N − 1)   `[D, D]`
 *   covariance = c(z) + c(z')
 *   loss       = λ·invariance + μ·variance + ν·covariance
 *
 * The terms are returned unweighted. This is the official code (main_vicreg.py): the variance term
 * of the two views is averaged (`/ 2` each), the covariance term summed. Identical views give
 * invariance 0; a batch whose every dimension has std ≥ 1 gives variance 0 (up to eps); uncorrelated
 * dimensions give covariance 0. Needs N ≥ 2.
 *
 * By default view 0 and view 1 are both read from the online branch (target `shared`, or none);
 * with `branch: "target"`, view 1 is read from the target branch instead.
 *
 * @example { "type": "vicreg", "invariance": 25, "variance": 25, "covariance": 1 }
 */
export default definePlugin({
  kind: 'loss',
  name: 'vicreg',
  description: 'VICReg: invariance (MSE) between two views plus variance and covariance regularisation of each',
  reference: 'VICReg (Bardes et al. 2022): λ = μ = 25, ν = 1, eps = 1e-4, expander 8192-8192-8192',
  options: Type.Object({
    invariance: Type.Number({ default: 25, minimum: 0, description: 'weight λ of the invariance (MSE) term' }),
    variance: Type.Number({ default: 25, minimum: 0, description: 'weight μ of the variance (std hinge at 1) term' }),
    covariance: Type.Number({ default: 1, minimum: 0, description: 'weight ν of the covariance (off-diagonal) term' }),
    eps: Type.Number({ default: 1e-4, minimum: 0, description: 'added to the variance under the square root' }),
    ...twoViewOptions,
  }),
  create: (o) => ({
    viewsRead: twoViewsRead(o),
    compute(input) {
      const [a, b] = twoViews(input, o, 'vicreg');
      if (a.shape[0] < 2) throw new Error(`vicreg needs a batch of at least 2 (variance and covariance divide by N − 1), got ${a.shape[0]}`);
      const invariance = tf.mean(tf.square(tf.sub(a, b))) as Scalar;
      const [ca, cb] = [centre(a), centre(b)];
      const variance = tf.div(tf.add(stdHinge(ca, o.eps), stdHinge(cb, o.eps)), 2) as Scalar;
      const covariance = tf.add(offDiagCov(ca), offDiagCov(cb)) as Scalar;
      const loss = tf.addN([tf.mul(invariance, o.invariance), tf.mul(variance, o.variance), tf.mul(covariance, o.covariance)]) as Scalar;
      return { loss, terms: { invariance, variance, covariance } };
    },
  }),
});

/** Z − mean over the batch. */
function centre(z: Tensor2D): Tensor2D {
  return tf.sub(z, tf.mean(z, 0, true));
}

/** v(Z) = mean_d relu(1 − sqrt(var_d + eps)), unbiased variance of the centred batch `zc`. */
function stdHinge(zc: Tensor2D, eps: number): Tensor {
  const variance = tf.div(tf.sum(tf.square(zc), 0), zc.shape[0] - 1);
  return tf.mean(tf.relu(tf.sub(1, tf.sqrt(tf.add(variance, eps)))));
}

/** c(Z) = Σ_{i≠j} Cov_ij² / D, Cov = zc^T zc / (N − 1). */
function offDiagCov(zc: Tensor2D): Tensor {
  const [n, d] = zc.shape;
  const cov = tf.div(tf.matMul(zc, zc, true, false), n - 1);
  return tf.div(tf.sum(tf.square(tf.mul(cov, tf.sub(1, tf.eye(d))))), d);
}
