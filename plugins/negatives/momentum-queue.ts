import { Type } from '@sinclair/typebox';
import { definePlugin, readOutputs, l2Normalize, tf, type Tensor2D, type Variable } from '../../core/index.js';

/**
 * Momentum queue (MoCo, He et al. 2020): a FIFO ring buffer of K L2-normalised keys `[K, D]` from
 * the momentum target branch. The negatives of a step are the queue as it was before the step;
 * afterwards the batch's keys (every key view) are enqueued, overwriting the oldest. The write
 * pointer wraps around, so K need not be a multiple of the batch size, and a batch larger than the
 * queue keeps its last K keys. Initialised with random unit vectors (as MoCo). Queue and pointer
 * are saved in checkpoints.
 *
 * @example { "type": "momentum-queue", "size": 4096 }
 */
export default definePlugin({
  kind: 'negatives',
  name: 'momentum-queue',
  description: 'FIFO queue of past keys from the momentum encoder (MoCo)',
  reference: 'MoCo (He et al. 2020): K = 65536 on ImageNet, 4096 in the CIFAR recipe',
  options: Type.Object({
    size: Type.Integer({ default: 4096, minimum: 1, description: 'K: number of keys kept' }),
  }),
  create(o, ctx) {
    const dim = ctx.inputDim;
    if (!dim) throw new Error('momentum-queue needs the dimension of the head output');
    if (ctx.trainCount !== undefined && o.size > ctx.trainCount) {
      throw new Error(
        `a queue of ${o.size} keys is larger than the training set (${ctx.trainCount} images): it would hold stale copies of the same images; use size <= ${ctx.trainCount}`,
      );
    }
    const init = ctx.rng.fill(o.size * dim, (r) => r.normal());
    const queue: Variable = tf.variable(l2Normalize(tf.tensor2d(init, [o.size, dim])), false);
    const pointer: Variable = tf.variable(tf.scalar(0), false);
    return {
      readsOnline: false,
      negatives: () => ({ embeddings: queue as unknown as Tensor2D }),
      async update({ target, online }) {
        // the views that were encoded (a step may skip views its loss does not read)
        const src = readOutputs(target ?? online, 'z', target ? 'target' : 'online').filter((t) => t !== undefined);
        const ptr0 = (await pointer.data())[0];
        const { rows, next } = tf.tidy(() => {
          let k = l2Normalize(tf.concat(src, 0)) as Tensor2D;
          if (k.shape[0] > o.size) k = tf.slice(k, [k.shape[0] - o.size, 0], [o.size, dim]);
          return { rows: k, next: (ptr0 + k.shape[0]) % o.size };
        });
        // write rows at ptr0, ptr0+1, ... modulo K: as (at most) two contiguous pieces
        const n = rows.shape[0];
        const first = Math.min(n, o.size - ptr0);
        tf.tidy(() => {
          const parts: tf.Tensor[] = [];
          const wrapped = n - first;
          if (wrapped > 0) parts.push(tf.slice(rows, [first, 0], [wrapped, dim]));
          const keepStart = wrapped;
          const keepMid = ptr0 - keepStart;
          if (keepMid > 0) parts.push(tf.slice(queue, [keepStart, 0], [keepMid, dim]));
          parts.push(tf.slice(rows, [0, 0], [first, dim]));
          const tail = o.size - ptr0 - first;
          if (tail > 0) parts.push(tf.slice(queue, [ptr0 + first, 0], [tail, dim]));
          queue.assign(tf.concat(parts, 0));
          pointer.assign(tf.scalar(next));
        });
        rows.dispose();
      },
      state: () =>
        new Map([
          ['queue', queue],
          ['pointer', pointer],
        ]),
    };
  },
});
