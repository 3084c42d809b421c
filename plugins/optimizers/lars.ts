import { Type } from '@sinclair/typebox';
import { definePlugin, tf } from '../../core/index.js';
import { Slots } from './slots.js';

/**
 * LARS (You et al. 2017), SimCLR's and BYOL's optimizer for large batches: g = grad + wd*p, and
 * for adapted parameters the layer-wise trust ratio eta*||p||/||g|| scales the step; biases and
 * batch-norm parameters are excluded from both by default (SimCLR, BYOL; `paramGroups` can change
 * that per parameter). v = mu*v + lr*trust*g; p -= v: SimCLR's (TensorFlow) formulation, with the
 * learning rate inside the momentum buffer and the trust ratio from ||grad + wd*p||. With `clip`,
 * trust is min(trust / lr, 1), so the adapted rate never exceeds the learning rate (solo-learn's
 * clipped LARS, which otherwise keeps lr outside the buffer and uses ||grad|| + wd*||p||).
 *
 * @example { "type": "lars", "lr": 1.2, "momentum": 0.9, "weightDecay": 1e-6 }
 */
export default definePlugin({
  kind: 'optimizer',
  name: 'lars',
  description: 'layer-wise adaptive rate scaling with momentum (SimCLR)',
  reference: 'SimCLR: LARS, lr = 0.3 x batch/256, wd 1e-6, eta 0.001',
  schedulable: ['weightDecay', 'momentum'],
  options: Type.Object({
    lr: Type.Number({ default: 0.3, exclusiveMinimum: 0, description: 'base learning rate (SimCLR: 0.3 x batch / 256)' }),
    momentum: Type.Number({ default: 0.9, minimum: 0, maximum: 1 }),
    weightDecay: Type.Number({ default: 1e-6, minimum: 0 }),
    eta: Type.Number({ default: 0.001, exclusiveMinimum: 0, description: 'trust coefficient' }),
    clip: Type.Boolean({
      default: false,
      description: 'cap the adapted rate at the learning rate: step lr x min(trust / lr, 1) (the clipped LARS of solo-learn and lightly)',
    }),
  }),
  create(o) {
    const slots = new Slots();
    return {
      lr: o.lr,
      get weightDecay() {
        return o.weightDecay;
      },
      init: (params) => slots.init(params, ['momentum']),
      state: () => slots.all,
      apply(grads, hyper) {
        tf.tidy(() => {
          for (const p of slots.params) {
            let g = grads.get(p.name);
            if (!g) continue;
            const { lr, weightDecay, adapt } = hyper(p.name);
            let scale: tf.Tensor | number = 1;
            if (weightDecay > 0) g = tf.add(g, tf.mul(p.variable, weightDecay));
            if (adapt) {
              const wn = tf.norm(p.variable);
              const gn = tf.norm(g);
              const ratio = tf.div(tf.mul(wn, o.eta), gn);
              const trust = o.clip ? tf.minimum(tf.div(ratio, lr), 1) : ratio;
              scale = tf.where(tf.logicalAnd(tf.greater(wn, 0), tf.greater(gn, 0)), trust, tf.onesLike(ratio));
            }
            const v = slots.get(p, 'momentum');
            v.assign(tf.add(tf.mul(v, o.momentum), tf.mul(g, tf.mul(scale, lr))));
            p.variable.assign(tf.sub(p.variable, v));
          }
        });
      },
    };
  },
});
