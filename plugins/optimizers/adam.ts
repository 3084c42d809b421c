import { Type } from '@sinclair/typebox';
import { ADAM_STEP, definePlugin, tf, type AdamStepAttrs, type ParamHyper, type Tensor } from '../../core/index.js';
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
        // the backend's fused update (native: one pass instead of 14-16 ops a parameter), else the composed ops below
        const fused = !!tf.getKernel(ADAM_STEP, tf.getBackend());
        for (const p of slots.params) {
          let g = grads.get(p.name);
          if (!g) continue;
          const { lr, weightDecay } = hyper(p.name);
          if (fused && g.dtype === 'float32' && p.variable.dtype === 'float32') {
            const attrs: AdamStepAttrs = { lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay, decoupled: decoupledDefault };
            const m = slots.get(p, 'm');
            const v = slots.get(p, 'v');
            const [np, nm, nv] = tf.engine().runKernel(ADAM_STEP, { param: p.variable, grad: g, m, v, c1, c2 }, attrs as never) as Tensor[];
            m.assign(nm);
            v.assign(nv);
            p.variable.assign(np);
            continue;
          }
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
