import { Type } from '@sinclair/typebox';
import { definePlugin, l2Normalize, readOutputs, logSumExpRows, tf, type Negatives, type Scalar, type Tensor, type Tensor2D } from '../../core/index.js';

/**
 * InfoNCE (van den Oord et al. 2018), the contrastive loss of SimCLR, MoCo and NPID. For a query
 * view a and key view b, with q = normalise(z_a) and k = normalise(key_b), both `[N, D]`:
 *
 *   logits_n = [ q_n . k_n , q_n . n_1 , ... , q_n . n_K ] / T        (positive at index 0)
 *   loss     = mean_n ( logsumexp(logits_n) - logits_n[0] )
 *
 * where n_1..n_K are the NegativeSource's keys, minus those owned by sample n itself. With
 * in-batch negatives and two views this is NT-Xent (SimCLR): each of the 2N views is an anchor, its
 * other view the positive and the 2N-2 remaining views the negatives. Uniform similarities give
 * log(2N-1). With `symmetric`, every ordered pair of views (a, b), a != b, is averaged. Without a
 * target branch, the positive comes from the negative source (`positives`, e.g. NPID's bank entry).
 * Queries are the online output `online` (`z`; MoCo v3: the predictor's `p`), keys the target
 * output `target` (`z`). With `pairNegatives`, the other samples' keys of the paired view are
 * negatives as well (MoCo v3: logits q_a k_b^T over the batch, the positives on the diagonal).
 *
 * @example { "type": "info-nce", "temperature": 0.5 }
 */
export default definePlugin({
  kind: 'loss',
  name: 'info-nce',
  description: 'contrastive InfoNCE / NT-Xent over a positive and negatives',
  reference: 'SimCLR (Chen et al. 2020): T = 0.5 on CIFAR-10; MoCo v1: T = 0.07; MoCo v2: T = 0.2',
  options: Type.Object({
    temperature: Type.Number({ default: 0.5, exclusiveMinimum: 0, description: 'softmax temperature T' }),
    symmetric: Type.Boolean({ default: true, description: 'every view is a query against every other view (false: view 0 vs view 1 only)' }),
    online: Type.String({ default: 'z', description: "the online output that queries (MoCo v3: 'p')" }),
    target: Type.String({ default: 'z', description: 'the target output that keys' }),
    pairNegatives: Type.Boolean({
      default: false,
      description: "the paired view's keys of the other samples are negatives too (MoCo v3, with negatives 'none')",
    }),
  }),
  schedulable: ['temperature'],
  create: (o) => ({
    // without symmetric, only view 0's queries and view 1's keys are read (when there is a key per view)
    viewsRead: (views: number) =>
      o.symmetric || views < 2 ? { online: [...Array(views).keys()], target: [...Array(views).keys()] } : { online: [0], target: [1] },
    compute({ online, target, negatives, index }) {
      const qs = readOutputs(online, o.online, 'online').map((t) => t && (l2Normalize(t) as Tensor2D));
      const ks = target && readOutputs(target, o.target, 'target').map((t) => t && (l2Normalize(t) as Tensor2D));
      const pos = negatives?.positives ? (l2Normalize(negatives.positives) as Tensor2D) : undefined;
      const negs = negatives ? (l2Normalize(negatives.embeddings) as Tensor2D) : undefined;
      const mask = negatives && negatives.owner ? ownerMask(index, negatives) : undefined;
      const pairs: Array<[Tensor2D, Tensor2D]> = [];
      if (ks && ks.length > 1) {
        for (let a = 0; a < qs.length; a++)
          for (let b = 0; b < ks.length; b++) if (a !== b && (o.symmetric || (a === 0 && b === 1))) pairs.push([qs[a], ks[b]]);
      } else if (ks && ks.length === 1 && qs.length === 1) pairs.push([qs[0], ks[0]]);
      else if (pos) qs.forEach((q) => pairs.push([q, pos]));
      if (pairs.length === 0)
        throw new Error('info-nce needs a positive: two views with a target branch (shared or momentum), or a negative source that supplies positives');
      const losses = pairs.map(([q, k]) => {
        const p = tf.div(tf.sum(tf.mul(q, k), 1, true), o.temperature);
        let logits = p;
        if (negs) {
          let n = tf.div(tf.matMul(q, negs, false, true), o.temperature);
          if (mask) n = tf.add(n, mask);
          logits = tf.concat([logits, n], 1);
        }
        if (o.pairNegatives && k !== pos) {
          // q_n . k_m for m != n (the diagonal is the positive, already in `p`)
          const diag = tf.mul(tf.eye(q.shape[0]), -1e9);
          logits = tf.concat([logits, tf.add(tf.div(tf.matMul(q, k, false, true), o.temperature), diag)], 1);
        }
        return tf.mean(tf.sub(logSumExpRows(logits as Tensor2D), tf.reshape(p, [-1])));
      });
      return tf.div(tf.addN(losses as Tensor[]), losses.length) as Scalar;
    },
  }),
});

/** `[N, K]` additive mask: -1e9 where negative k belongs to query n's own sample. */
function ownerMask(index: Int32Array, negatives: Negatives): Tensor {
  const owner = negatives.owner!;
  const K = owner.length;
  const m = new Float32Array(index.length * K);
  for (let n = 0; n < index.length; n++) for (let k = 0; k < K; k++) if (owner[k] === index[n]) m[n * K + k] = -1e9;
  return tf.tensor2d(m, [index.length, K]);
}
