import { Type } from '@sinclair/typebox';
import { definePlugin, tf, type Scalar } from '../../core/index.js';
import { crossViewCosines } from './view-pairs.js';

/**
 * BYOL's loss (Grill et al. 2020, eq. 2): the mean squared error between the L2-normalised online
 * prediction p = q_θ(z_θ) of one view and the L2-normalised target projection z' = z_ξ of the other.
 * For views a != b, with p_a `[N, D]` (online `p`) and z'_b `[N, D]` (target `z`):
 *
 *   ℓ(a, b) = mean_n ‖ p̄_a,n − z̄'_b,n ‖²  =  mean_n ( 2 − 2 · cos(p_a,n, z'_b,n) )      (in [0, 4])
 *
 * Symmetrised over views 0 and 1: the paper SUMS the two directions, L = ℓ(0, 1) + ℓ(1, 0) (eq. 2's
 * L + L~), so equal directions give 0 and opposite ones 8; `reduction: "mean"` halves that.
 * The target is BYOL's momentum (EMA) branch, whose outputs already carry no gradient, so this loss
 * does not detach z' unless `stopGradient` is set (a `shared` target without its own stop-gradient).
 *
 * @example { "type": "normalized-mse" }
 */
export default definePlugin({
  kind: 'loss',
  name: 'normalized-mse',
  description: "BYOL: MSE of normalised online predictions vs. the other view's normalised target projections",
  reference: "Grill et al. 2020, BYOL, eq. 2: ℓ = 2 − 2·cos(q(z), z'), symmetrised by summing both view orders",
  options: Type.Object({
    online: Type.String({ default: 'p', description: 'online output that predicts (BYOL: the predictor output p)' }),
    target: Type.String({ default: 'z', description: 'target output to predict (BYOL: the target projection z)' }),
    reduction: Type.Union([Type.Literal('sum'), Type.Literal('mean')], {
      default: 'sum',
      description: 'how the two view orders combine: sum (the paper, range [0, 8]) or mean (range [0, 4])',
    }),
    stopGradient: Type.Boolean({ default: false, description: 'detach the target outputs here (a momentum target already has no gradient)' }),
  }),
  create: (o) => ({
    viewsRead: () => ({ online: [0, 1], target: [0, 1] }),
    compute(input) {
      // ‖p̄ − z̄'‖² = 2 − 2 cos(p, z') per sample, for (0, 1) and (1, 0)
      const total = tf.addN(crossViewCosines(input, o, o.stopGradient, 'normalized-mse').map((cos) => tf.mean(tf.sub(2, tf.mul(2, cos)))));
      return (o.reduction === 'mean' ? tf.div(total, 2) : total) as Scalar;
    },
  }),
});
