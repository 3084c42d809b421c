import { Type } from '@sinclair/typebox';
import { definePlugin, tf, type Branch, type Param, type Variable } from '../../core/index.js';

/**
 * Momentum target (MoCo, He et al. 2020; BYOL, Grill et al. 2020): an EMA copy of the online encoder
 * and head, updated after every optimizer step as
 *
 *   theta_k <- m * theta_k + (1 - m) * theta_q
 *
 * over trainable parameters (the copy keeps its own batch-norm statistics). It gets no gradient.
 * `schedule: "cosine"` raises m from `momentum` to 1 over training (BYOL: tau = 1 - (1 - tau0)(cos(pi k/K) + 1)/2).
 * Keys: the copy's outputs for the views, `[N, D]` per view.
 *
 * Batch norm leaks information on one device: if a query and its key are normalised with the same
 * batch's statistics, the model can find its positive through those statistics instead of the
 * image content (MoCo section 3.3; they shuffle the batch across GPUs for the key encoder,
 * "Shuffle BN"). `shuffleGroups: g` does that on one device: the batch is shuffled and split into
 * g groups whose keys are computed separately (each with its own batch-norm statistics), then put
 * back in order.
 *
 * @example { "type": "momentum", "momentum": 0.99, "schedule": "constant" }
 */
export default definePlugin({
  kind: 'target',
  name: 'momentum',
  description: 'EMA copy of encoder and head, no gradient (MoCo, BYOL)',
  reference: 'MoCo (He et al. 2020): m = 0.999; BYOL: tau0 = 0.996 with a cosine increase',
  options: Type.Object({
    momentum: Type.Number({ default: 0.99, minimum: 0, maximum: 1, description: 'm (the start value under a cosine schedule)' }),
    schedule: Type.Union([Type.Literal('constant'), Type.Literal('cosine')], { default: 'constant', description: 'constant m, or cosine from m to 1' }),
    shuffleGroups: Type.Integer({ default: 1, minimum: 1, description: 'keys from g shuffled groups with separate batch-norm statistics (Shuffle BN on one device); 1: off' }),
  }),
  create(o, ctx) {
    let copy: Branch | undefined;
    let pairs: Array<[Param, Param]> = [];
    return {
      async attach(branch, makeCopy) {
        copy = await makeCopy();
        const src = [...branch.encoder.params.trainable(), ...branch.head.params.trainable()];
        const dst = [...copy.encoder.params.trainable(), ...copy.head.params.trainable()];
        pairs = src.map((p, i) => [p, dst[i]]);
      },
      keys(views, _online, forward) {
        if (!copy) throw new Error('momentum target used before attach()');
        const n = views[0].shape[0];
        const g = Math.min(o.shuffleGroups, n);
        if (g <= 1) return forward(copy, views);
        const perm = ctx.rng.permutation(n);
        const inverse = new Int32Array(n);
        perm.forEach((p, i) => (inverse[p] = i));
        const shuffled = views.map((v) => tf.gather(v, perm));
        const size = Math.ceil(n / g);
        const chunks: tf.Tensor2D[][] = views.map(() => []);
        for (let start = 0; start < n; start += size) {
          const len = Math.min(size, n - start);
          const outs = forward(copy, shuffled.map((v) => tf.slice(v, start, len)));
          outs.forEach((k, vi) => chunks[vi].push(k));
        }
        return chunks.map((c) => tf.gather(tf.concat(c, 0), inverse) as tf.Tensor2D);
      },
      update(progress) {
        const m = o.schedule === 'cosine' ? 1 - (1 - o.momentum) * (Math.cos((Math.PI * progress.step) / progress.totalSteps) + 1) / 2 : o.momentum;
        tf.tidy(() => {
          for (const [q, k] of pairs) k.variable.assign(tf.add(tf.mul(k.variable, m), tf.mul(q.variable, 1 - m)));
        });
      },
      state() {
        const m = new Map<string, Variable>();
        if (copy) {
          for (const p of copy.encoder.params.list()) m.set(`encoder/${p.name}`, p.variable);
          for (const p of copy.head.params.list()) m.set(`head/${p.name}`, p.variable);
        }
        return m;
      },
    };
  },
});
