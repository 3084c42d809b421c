import { Type } from '@sinclair/typebox';
import { definePlugin, readOutputs, l2Normalize, tf, type Tensor2D, type Variable } from '../../core/index.js';

/**
 * Memory bank (NPID, Wu et al. 2018): one L2-normalised entry `[N, D]` per training image, indexed
 * by dataset index, initialised with random unit vectors. Each step draws K indices uniformly as
 * negatives (with `excludeOwn`, never the batch's own indices, as mmselfsup's `ensure_neg`;
 * otherwise a drawn own entry is masked by the loss), and supplies the bank's entry of each sample
 * as its positive. After the step the batch's entries become v <- normalise(m v + (1 - m) f), f
 * the normalised online features (the keys, if the task has a target). Saved in checkpoints.
 *
 * @example { "type": "memory-bank", "negatives": 4096, "momentum": 0.5 }
 */
export default definePlugin({
  kind: 'negatives',
  name: 'memory-bank',
  description: 'one stored feature per training image, K sampled as negatives (NPID)',
  reference: 'NPID (Wu et al. 2018): K = 4096, m = 0.5, T = 0.07',
  options: Type.Object({
    negatives: Type.Integer({ default: 4096, minimum: 1, description: 'K: entries sampled per step' }),
    momentum: Type.Number({ default: 0.5, minimum: 0, maximum: 1, description: 'm in v <- normalise(m v + (1 - m) f)' }),
    excludeOwn: Type.Boolean({ default: true, description: "never sample the batch's own entries" }),
  }),
  create(o, ctx) {
    const dim = ctx.inputDim;
    const n = ctx.trainCount;
    if (!dim || !n) throw new Error('memory-bank needs the head output dimension and the training set size');
    if (o.negatives >= n) throw new Error(`K = ${o.negatives} negatives from a bank of ${n} entries: use K < ${n}`);
    const rng = ctx.rng;
    const bank: Variable = tf.variable(
      l2Normalize(
        tf.tensor2d(
          rng.fill(n * dim, (r) => r.normal()),
          [n, dim],
        ),
      ),
      false,
    );
    /** K uniform indices in [0, N), avoiding `own` when excludeOwn */
    const sample = (own: Set<number>): Int32Array => {
      const idx = new Int32Array(o.negatives);
      for (let i = 0; i < idx.length; i++) {
        let j = rng.int(n);
        while (o.excludeOwn && own.has(j)) j = rng.int(n);
        idx[i] = j;
      }
      return idx;
    };
    return {
      negatives({ index }) {
        const idx = sample(new Set(index));
        return {
          embeddings: tf.gather(bank, idx) as Tensor2D,
          owner: idx,
          positives: tf.gather(bank, index) as Tensor2D,
        };
      },
      update({ online, target, index }) {
        tf.tidy(() => {
          const src = readOutputs(target ?? online, 'z', target ? 'target' : 'online');
          // several views: their mean feature updates the entry
          const f = l2Normalize(src.length === 1 ? src[0] : tf.div(tf.addN(src), src.length));
          const old = tf.gather(bank, index);
          const updated = l2Normalize(tf.add(tf.mul(old, o.momentum), tf.mul(f, 1 - o.momentum)));
          bank.assign(
            tf.tensorScatterUpdate(
              bank,
              tf.tensor2d(
                Array.from(index, (i) => [i]),
                [index.length, 1],
                'int32',
              ),
              updated,
            ),
          );
        });
      },
      state: () => new Map([['bank', bank]]),
    };
  },
});
