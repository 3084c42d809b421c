import { Type } from '@sinclair/typebox';
import { readOutputs, definePlugin, tf, type Scalar, type Tensor, type Tensor2D } from '../../core/index.js';

/**
 * SwAV's swapped prediction (Caron et al. 2020, "Unsupervised Learning of Visual Features by
 * Contrasting Cluster Assignments"). It reads the prototype scores `online[v].scores` `[B, K]` of
 * every view (a `sequence` head's `prototypes` stage: cosines of the projection with K unit prototypes). For each
 * assigned crop i (`assignViews`, the two large crops by default), the code
 *
 *   q_i = sinkhorn(s_i, epsilon, iterations)   `[B, K]`, rows sum to 1, computed without gradient
 *
 * is predicted from every other view v != i (small crops included):
 *
 *   l(i, v) = - mean_b sum_k q_i[b, k] log softmax(s_v / T)[b, k]
 *   loss    = mean_i ( sum_{v != i} l(i, v) / (V - 1) )
 *
 * as the official code (`subloss / (nmb_crops - 1)`, `loss /= len(crops_for_assign)`). Equal
 * scores give log K. Defaults are the paper's: T = 0.1, epsilon = 0.05, 3 Sinkhorn iterations.
 * No queue: with small batches keep K small (see the `prototypes` head).
 *
 * @example "loss": { "type": "swav", "temperature": 0.1 }
 */
export default definePlugin({
  kind: 'loss',
  name: 'swav',
  description: 'SwAV swapped prediction of Sinkhorn cluster assignments between views',
  reference: 'SwAV (Caron et al. 2020): T = 0.1, epsilon = 0.05, 3 Sinkhorn iterations, codes from crops 0 and 1',
  readsGlobalViews: (o) => Math.max(0, ...o.assignViews.map((i) => i + 1)),
  schedulable: ['temperature'],
  options: Type.Object({
    temperature: Type.Number({ default: 0.1, exclusiveMinimum: 0, description: 'softmax temperature T of the predictions' }),
    epsilon: Type.Number({ default: 0.05, exclusiveMinimum: 0, description: 'entropic regularisation of Sinkhorn-Knopp (smaller: harder codes)' }),
    sinkhornIterations: Type.Integer({ default: 3, minimum: 1, description: 'Sinkhorn-Knopp iterations' }),
    output: Type.String({ default: 'scores', description: "the online output holding the prototype scores (a `sequence` head's `scores` stage)" }),
    assignViews: Type.Array(Type.Integer({ minimum: 0 }), {
      default: [0, 1],
      minItems: 1,
      uniqueItems: true,
      description: 'views whose codes are computed (the large crops)',
    }),
  }),
  create: (o, ctx) => ({
    viewsRead: (views: number) => ({ online: [...Array(views).keys()], target: [] }),
    compute({ online }) {
      const scores = readOutputs(online, o.output, 'online') as Tensor2D[];
      const views = scores.length;
      if (views < 2) throw new Error(`${ctx.path}: swav predicts the code of one view from another: it needs at least 2 views, got ${views}`);
      const bad = o.assignViews.filter((i) => i >= views || scores[i] === undefined);
      if (bad.length) throw new Error(`${ctx.path}: assignViews ${bad.join(', ')} name views that do not exist (there are ${views})`);
      const logP = scores.map((s) => tf.logSoftmax(tf.div(s, o.temperature)));
      const perCrop = o.assignViews.map((i) => {
        const q = sinkhornNoGrad(scores[i], o.epsilon, o.sinkhornIterations);
        const terms: Tensor[] = [];
        for (let v = 0; v < views; v++) if (v !== i) terms.push(tf.mean(tf.sum(tf.mul(q, logP[v]), 1)));
        return tf.div(tf.neg(tf.addN(terms)), views - 1);
      });
      return tf.div(tf.addN(perCrop), perCrop.length) as Scalar;
    },
  }),
});

/**
 * Sinkhorn-Knopp as in the official SwAV code: the equipartitioned soft assignment of B samples to
 * K prototypes from their scores `[B, K]`.
 *
 *   Q = exp(scores / epsilon)^T   `[K, B]`;  Q /= sum(Q)
 *   repeat: rows (prototypes) scaled to sum 1/K, then columns (samples) to sum 1/B
 *   return (B Q)^T                 `[B, K]`
 *
 * The last step normalises columns, so every returned row sums to 1 exactly, and the column sums
 * (mass per prototype) approach B/K as the iterations grow. Before exp, each prototype's maximum
 * over the batch is subtracted: that multiplies row k of Q by a constant, which the first row
 * normalisation removes exactly, so the result is unchanged and exp cannot overflow (nor a whole
 * row underflow). Differentiable as written: `swav` calls it without gradient.
 *
 * @example const q = sinkhorn(scores, 0.05, 3); // [B, K], q.sum(1) == 1
 */
export function sinkhorn(scores: Tensor2D, epsilon: number, iterations: number): Tensor2D {
  return tf.tidy(() => {
    const [b, k] = scores.shape;
    const logits = tf.transpose(tf.div(scores, epsilon)); // [K, B]
    let q: Tensor = tf.exp(tf.sub(logits, tf.max(logits, 1, true)));
    q = tf.div(q, tf.sum(q));
    for (let it = 0; it < iterations; it++) {
      q = tf.div(q, tf.mul(tf.sum(q, 1, true), k));
      q = tf.div(q, tf.mul(tf.sum(q, 0, true), b));
    }
    return tf.transpose(tf.mul(q, b)) as Tensor2D;
  });
}

/**
 * `sinkhorn` as a constant of the gradient tape: it runs as the forward of a custom-gradient op,
 * where tfjs records nothing, and its gradient is zero. (A `stopGradient` on the input would also
 * stop the gradient, but the Sinkhorn ops would still be taped and differentiated to zeros.)
 */
function sinkhornNoGrad(scores: Tensor2D, epsilon: number, iterations: number): Tensor2D {
  const op = tf.customGrad(((s: Tensor2D, save: (ts: Tensor[]) => void) => {
    save([]);
    return { value: sinkhorn(s, epsilon, iterations), gradFunc: (dy: Tensor) => [tf.zerosLike(dy)] };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(scores) as Tensor2D;
}
