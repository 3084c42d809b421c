import type { TensorInfo } from '@tensorflow/tfjs-core';
import { ADAM_STEP, type AdamStepAttrs } from '../adam-kernel.js';
import { f32, output, withFallback, type NativeKernelFactory } from './data.js';

/** Adam / AdamW's update of one parameter in one native pass (contract in core/engine/adam-kernel.ts). */
export const adamKernels: NativeKernelFactory = (backendName, addon) => [
  withFallback(ADAM_STEP, backendName, undefined, ({ inputs, attrs, backend }) => {
    const t = inputs as Record<'param' | 'grad' | 'm' | 'v' | 'c1' | 'c2', TensorInfo>;
    const a = attrs as unknown as AdamStepAttrs;
    const [p, g, m, v, c1, c2] = [t.param, t.grad, t.m, t.v, t.c1, t.c2].map((x) => f32(backend, x));
    if (!p || !g || !m || !v || !c1 || !c2 || g.length !== p.length || m.length !== p.length || v.length !== p.length || c1.length !== 1 || c2.length !== 1)
      return undefined;
    let mo!: Float32Array, vo!: Float32Array;
    const mInfo = output(backend, t.m.shape.slice(), (o) => (mo = o));
    const vInfo = output(backend, t.v.shape.slice(), (o) => (vo = o));
    const pInfo = output(backend, t.param.shape.slice(), (po) =>
      addon.adamStep(
        p,
        g,
        m,
        v,
        po,
        mo,
        vo,
        new Float32Array([a.lr, a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, a.eps, a.weightDecay, a.lr * a.weightDecay, c1[0], c2[0]]),
        a.decoupled,
      ),
    );
    return [pInfo, mInfo, vInfo];
  }),
];
