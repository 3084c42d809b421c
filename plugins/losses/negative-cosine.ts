import { Type } from '@sinclair/typebox';
import { definePlugin, tf, type Scalar } from '../../core/index.js';
import { crossViewCosines } from './view-pairs.js';

/**
 * SimSiam's loss (Chen & He 2021, eq. 1-2): the negative cosine similarity between the online
 * prediction p `[N, D]` (online `p`) of one view and the stop-gradient projection z `[N, D]`
 * (target `z`) of the other, symmetrised over views 0 and 1:
 *
 *   D(p, z) = − mean_n cos(p_n, stopgrad(z_n))
 *   L       = ½ D(p_0, z_1) + ½ D(p_1, z_0)                                 (in [−1, 1]; min −1)
 *
 * The paper's finding is that the stop-gradient is what prevents collapse, so this loss applies it
 * to z itself by default (`stopGradient: true`), on top of the preset's `shared` target with
 * `stopGradient: true`: a preset that forgets the latter still trains SimSiam, not a collapsing net.
 *
 * @example { "type": "negative-cosine" }
 */
export default definePlugin({
  kind: 'loss',
  name: 'negative-cosine',
  description: "SimSiam: negative cosine of each view's prediction with the other view's stop-gradient projection",
  reference: 'Chen & He 2021, SimSiam, eq. 1-2: L = ½ D(p1, stopgrad(z2)) + ½ D(p2, stopgrad(z1))',
  options: Type.Object({
    online: Type.String({ default: 'p', description: 'online output that predicts (SimSiam: the predictor output p)' }),
    target: Type.String({ default: 'z', description: 'target output to predict (SimSiam: the projection z)' }),
    stopGradient: Type.Boolean({ default: true, description: 'detach the target outputs here (SimSiam: essential against collapse)' }),
  }),
  create: (o) => ({
    viewsRead: () => ({ online: [0, 1], target: [0, 1] }),
    compute(input) {
      const [c01, c10] = crossViewCosines(input, o, o.stopGradient, 'negative-cosine');
      return tf.mul(-0.5, tf.add(tf.mean(c01), tf.mean(c10))) as Scalar;
    },
  }),
});
