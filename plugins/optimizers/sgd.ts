import { Type } from '@sinclair/typebox';
import { definePlugin, tf } from '../../core/index.js';
import { Slots } from './slots.js';

/**
 * SGD with momentum, optional Nesterov, and L2 weight decay on the parameters that take it (not
 * biases or batch-norm), PyTorch's formulation: g = grad + wd*p; v = mu*v + g; p -= lr*(nesterov ? g + mu*v : v).
 *
 * @example { "type": "sgd", "lr": 0.06, "momentum": 0.9, "weightDecay": 5e-4 }
 */
export default definePlugin({
  kind: 'optimizer',
  name: 'sgd',
  description: 'SGD with momentum, Nesterov and weight decay',
  reference: 'MoCo CIFAR recipe: lr 0.06, momentum 0.9, wd 5e-4',
  schedulable: ['weightDecay', 'momentum'],
  options: Type.Object({
    lr: Type.Number({ default: 0.06, exclusiveMinimum: 0, description: 'base learning rate (the schedule scales it)' }),
    momentum: Type.Number({ default: 0.9, minimum: 0, maximum: 1 }),
    nesterov: Type.Boolean({ default: false }),
    weightDecay: Type.Number({ default: 5e-4, minimum: 0 }),
  }),
  create(o) {
    if (o.nesterov && o.momentum === 0) throw new Error('nesterov needs momentum > 0');
    const slots = new Slots();
    return {
      lr: o.lr,
      get weightDecay() {
        return o.weightDecay;
      },
      init: (params) => slots.init(params, o.momentum > 0 ? ['momentum'] : []),
      state: () => slots.all,
      apply(grads, hyper) {
        tf.tidy(() => {
          for (const p of slots.params) {
            let g = grads.get(p.name);
            if (!g) continue;
            const { lr, weightDecay } = hyper(p.name);
            if (weightDecay > 0) g = tf.add(g, tf.mul(p.variable, weightDecay));
            if (o.momentum > 0) {
              const v = slots.get(p, 'momentum');
              v.assign(tf.add(tf.mul(v, o.momentum), g));
              g = o.nesterov ? tf.add(g, tf.mul(v, o.momentum)) : v;
            }
            p.variable.assign(tf.sub(p.variable, tf.mul(g, lr)));
          }
        });
      },
    };
  },
});
