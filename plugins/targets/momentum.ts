import { Type } from '@sinclair/typebox';
import { definePlugin, lazyOutputs, tf, type Branch, type Outputs, type Param, type Variable } from '../../core/index.js';

/**
 * Momentum target (MoCo, He et al. 2020; BYOL, Grill et al. 2020): an EMA copy of the online encoder
 * and head (never the predictor), updated after every optimizer step as
 *
 *   theta_k <- m * theta_k + (1 - m) * theta_q
 *
 * over trainable parameters (the copy keeps its own batch-norm statistics). Its forward pass runs
 * before the gradient tape, so nothing of it is kept for the backward pass. `momentum` is
 * schedulable: BYOL raises it from 0.996 to 1 with a cosine, tau = 1 - (1 - tau0)(cos(pi k/K) + 1)/2,
 * which is `"schedules": { "target.momentum": { "to": 1, "schedule": { "type": "cosine" } } }`.
 * Outputs: the copy's named outputs for the views (`h`, `z`).
 *
 * Batch norm leaks information on one device: if a query and its key are normalised with the same
 * batch's statistics, the model can find its positive through those statistics instead of the
 * image content (MoCo section 3.3; they shuffle the batch across GPUs for the key encoder,
 * "Shuffle BN"). `shuffleGroups: g` does that on one device: the batch is shuffled and split into
 * g groups whose keys are computed separately (each with its own batch-norm statistics), then put
 * back in order.
 *
 * @example { "type": "momentum", "momentum": 0.99 }
 */
export default definePlugin({
  kind: 'target',
  name: 'momentum',
  description: 'EMA copy of encoder and head, no gradient (MoCo, BYOL)',
  reference: 'MoCo (He et al. 2020): m = 0.999; BYOL: tau0 = 0.996 with a cosine increase',
  options: Type.Object({
    momentum: Type.Number({ default: 0.99, minimum: 0, maximum: 1, description: 'm (schedulable: BYOL goes from 0.996 to 1)' }),
    shuffleGroups: Type.Integer({
      default: 1,
      minimum: 1,
      description: 'keys from g shuffled groups with separate batch-norm statistics (Shuffle BN on one device); 1: off',
    }),
  }),
  schedulable: ['momentum'],
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
      outputs(views, _online, forward) {
        if (!copy) throw new Error('momentum target used before attach()');
        const n = views[0].shape[0];
        const g = Math.min(o.shuffleGroups, n);
        if (g <= 1) return forward(copy, views);
        const perm = ctx.rng.permutation(n);
        const inverse = new Int32Array(n);
        perm.forEach((p, i) => (inverse[p] = i));
        const shuffled = views.map((v) => tf.gather(v, perm));
        const size = Math.ceil(n / g);
        const chunks: Outputs[][] = views.map(() => []);
        for (let start = 0; start < n; start += size) {
          const len = Math.min(size, n - start);
          const outs = forward(
            copy,
            shuffled.map((v) => tf.slice(v, start, len)),
          );
          outs.forEach((k, vi) => chunks[vi].push(k));
        }
        // every named output back in batch order (the `map` only when it is read)
        return chunks.map((c) =>
          lazyOutputs(Object.keys(c[0]), (name) =>
            tf.gather(
              tf.concat(
                c.map((o) => o[name]),
                0,
              ),
              inverse,
            ),
          ),
        );
      },
      afterStep() {
        const m = o.momentum;
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
