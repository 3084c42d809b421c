import { tf, type Tensor, type Tensor1D, type Tensor2D } from '../engine/tf.js';

/**
 * Row-wise log-sum-exp of `[N, K]` -> `[N]`, stable (the row max is subtracted), with the analytic
 * gradient `dy * softmax(x)`. tfjs's `logSumExp` differentiates through its max as well: a
 * broadcast `Equal` over the whole `[N, K]` input, which on wasm costs more than the rest of the
 * loss (MoCo's `[256, 4097]` logits: about 200 ms per step). The max's contribution is zero anyway.
 */
export function logSumExpRows(x: Tensor2D): Tensor1D {
  const op = tf.customGrad(((xIn: Tensor2D, save: (ts: Tensor[]) => void) => {
    const m = tf.max(xIn, 1, true);
    const e = tf.exp(tf.sub(xIn, m));
    const s = tf.sum(e, 1, true);
    save([e, s]);
    return {
      value: tf.reshape(tf.add(tf.log(s), m), [-1]),
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const [ee, ss] = saved;
        return tf.mul(tf.div(ee, ss), tf.reshape(dy as Tensor, [-1, 1]));
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as Tensor1D;
}
