import { Type } from '@sinclair/typebox';
import { definePlugin, tf, type ParamHyper } from '../../core/index.js';
import { Slots } from './slots.js';

/**
 * Adam (Kingma & Ba 2015) with bias correction; `decoupled: true` is AdamW (Loshchilov & Hutter
 * 2019: p -= lr*wd*p apart from the gradient), otherwise weight decay is L2 added to the gradient
 * (PyTorch's Adam). Decay skips biases and batch-norm parameters unless a parameter group says otherwise.
 *
 * @example { "type": "adam", "lr": 1e-3, "weightDecay": 1e-6 }
 */
const schema = Type.Object({
  lr: Type.Number({ default: 1e-3, exclusiveMinimum: 0, description: 'base learning rate (the schedule scales it)' }),
  beta1: Type.Number({ default: 0.9, minimum: 0, exclusiveMaximum: 1 }),
  beta2: Type.Number({ default: 0.999, minimum: 0, exclusiveMaximum: 1 }),
  eps: Type.Number({ default: 1e-8, exclusiveMinimum: 0 }),
  weightDecay: Type.Number({ default: 0, minimum: 0 }),
});

const makeAdam = (decoupledDefault: boolean) => (o: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number }) => {
  const slots = new Slots();
  return {
    lr: o.lr,
    get weightDecay() {
      return o.weightDecay;
    },
    init: (params: Parameters<Slots['init']>[0]) => {
      slots.init(params, ['m', 'v']);
      slots.counter('step');
    },
    state: () => slots.all,
    apply(grads: Map<string, tf.Tensor>, hyper: (name: string) => ParamHyper) {
      const t = slots.counter('step');
      tf.tidy(() => t.assign(tf.add(t, 1)));
      tf.tidy(() => {
        // the bias corrections 1 - beta^t on the device, from the step counter, with no read back
        // (every backend, WebGPU in a browser included, where a synchronous read may be wrong)
        const c1 = tf.sub(1, tf.pow(tf.scalar(o.beta1), t));
        const c2 = tf.sub(1, tf.pow(tf.scalar(o.beta2), t));
        for (const p of slots.params) {
          let g = grads.get(p.name);
          if (!g) continue;
          const { lr, weightDecay } = hyper(p.name);
          if (weightDecay > 0 && !decoupledDefault) g = tf.add(g, tf.mul(p.variable, weightDecay));
          const m = slots.get(p, 'm');
          const v = slots.get(p, 'v');
          m.assign(tf.add(tf.mul(m, o.beta1), tf.mul(g, 1 - o.beta1)));
          v.assign(tf.add(tf.mul(v, o.beta2), tf.mul(tf.square(g), 1 - o.beta2)));
          const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), o.eps));
          let next = tf.sub(p.variable, tf.mul(update, lr));
          if (weightDecay > 0 && decoupledDefault) next = tf.sub(next, tf.mul(p.variable, lr * weightDecay));
          p.variable.assign(next);
        }
      });
    },
  };
};

export const adam = definePlugin({
  kind: 'optimizer',
  name: 'adam',
  description: 'Adam with L2 weight decay',
  reference: 'Kingma & Ba 2015: beta 0.9/0.999, eps 1e-8',
  options: schema,
  schedulable: ['weightDecay'],
  create: makeAdam(false),
});

export const adamw = definePlugin({
  kind: 'optimizer',
  name: 'adamw',
  description: 'Adam with decoupled weight decay',
  reference: 'Loshchilov & Hutter 2019',
  options: Type.Object({ ...schema.properties, weightDecay: Type.Number({ default: 0.01, minimum: 0 }) }),
  schedulable: ['weightDecay'],
  create: makeAdam(true),
});
