import type { TensorInfo } from '@tensorflow/tfjs-core';
import { LAYER_NORM, LAYER_NORM_GRAD, type LayerNormAttrs } from '../layer-norm-kernels.js';
import { f32, output, withFallback, type NativeKernelFactory } from './data.js';

/**
 * Layer norm forward and backward, one native pass each over the rows (contract in
 * core/engine/layer-norm-kernels.ts); the column sums of the weight and bias gradients are
 * per-thread partials added in double.
 */
export const layerNormKernels: NativeKernelFactory = (backendName, addon) => [
  withFallback(LAYER_NORM, backendName, undefined, ({ inputs, attrs, backend }) => {
    const { x, weight, bias } = inputs as { x: TensorInfo; weight: TensorInfo; bias: TensorInfo };
    const { eps } = attrs as unknown as LayerNormAttrs;
    const [xv, w, b] = [f32(backend, x), f32(backend, weight), f32(backend, bias)];
    const d = x.shape[x.shape.length - 1];
    if (!xv || !w || !b || w.length !== d || b.length !== d || xv.length === 0) return undefined;
    const m = xv.length / d;
    let mean!: Float32Array, rstd!: Float32Array;
    const meanInfo = output(backend, [m], (o) => (mean = o));
    const rstdInfo = output(backend, [m], (o) => (rstd = o));
    const y = output(backend, x.shape.slice(), (o) => addon.layerNorm(xv, w, b, o, mean, rstd, m, d, eps));
    return [y, meanInfo, rstdInfo];
  }),
  withFallback(LAYER_NORM_GRAD, backendName, undefined, ({ inputs, backend }) => {
    const t = inputs as Record<'dy' | 'x' | 'mean' | 'rstd' | 'weight', TensorInfo>;
    const v = { dy: f32(backend, t.dy), x: f32(backend, t.x), mean: f32(backend, t.mean), rstd: f32(backend, t.rstd), w: f32(backend, t.weight) };
    const d = t.x.shape[t.x.shape.length - 1];
    if (!v.dy || !v.x || !v.mean || !v.rstd || !v.w || v.dy.length !== v.x.length || v.x.length === 0) return undefined;
    const m = v.x.length / d;
    let dw!: Float32Array, db!: Float32Array;
    const dwInfo = output(backend, [d], (o) => (dw = o));
    const dbInfo = output(backend, [d], (o) => (db = o));
    const dx = output(backend, t.x.shape.slice(), (o) => addon.layerNormGrad(v.dy!, v.x!, v.mean!, v.rstd!, v.w!, o, dw, db, m, d));
    return [dx, dwInfo, dbInfo];
  }),
];
