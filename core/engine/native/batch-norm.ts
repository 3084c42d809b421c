import type { TensorInfo } from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, type BatchNormTrainAttrs } from '../simd/batch-norm.js';
import { f32, output, withFallback, type NativeKernelFactory } from './data.js';

/**
 * Training batch norm (+ ReLU) and its gradient (the kernels `BatchNorm` in core/nn uses when a
 * backend has them; contract in core/engine/simd/batch-norm.ts): two passes over x forward, two
 * backward, per-channel sums in double.
 */
export const batchNormKernels: NativeKernelFactory = (backendName, addon) => [
  withFallback(BATCH_NORM_TRAIN, backendName, undefined, ({ inputs, attrs, backend }) => {
    const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
    const { eps, relu } = attrs as unknown as BatchNormTrainAttrs;
    const [xv, g, b] = [f32(backend, x), f32(backend, gamma), f32(backend, beta)];
    if (!xv || !g || !b) return undefined;
    const c = x.shape[x.shape.length - 1],
      m = xv.length / c;
    let mean!: Float32Array, variance!: Float32Array;
    const meanInfo = output(backend, [c], (o) => (mean = o));
    const varInfo = output(backend, [c], (o) => (variance = o));
    const y = output(backend, x.shape.slice(), (o) => addon.batchNormTrain(xv, g, b, o, mean, variance, m, c, eps, relu));
    return [y, meanInfo, varInfo];
  }),
  withFallback(BATCH_NORM_TRAIN_GRAD, backendName, undefined, ({ inputs, attrs, backend }) => {
    const t = inputs as Record<'dy' | 'x' | 'y' | 'mean' | 'variance' | 'gamma', TensorInfo>;
    const { eps, relu } = attrs as unknown as BatchNormTrainAttrs;
    const v = {
      dy: f32(backend, t.dy),
      x: f32(backend, t.x),
      y: f32(backend, t.y),
      mean: f32(backend, t.mean),
      variance: f32(backend, t.variance),
      gamma: f32(backend, t.gamma),
    };
    if (!v.dy || !v.x || !v.y || !v.mean || !v.variance || !v.gamma) return undefined;
    const c = t.x.shape[t.x.shape.length - 1],
      m = v.x.length / c;
    let dgamma!: Float32Array, dbeta!: Float32Array;
    const dgInfo = output(backend, [c], (o) => (dgamma = o));
    const dbInfo = output(backend, [c], (o) => (dbeta = o));
    const dx = output(backend, t.x.shape.slice(), (o) =>
      addon.batchNormTrainGrad(v.dy!, v.x!, v.y!, v.mean!, v.variance!, v.gamma!, o, dgamma, dbeta, m, c, eps, relu),
    );
    return [dx, dgInfo, dbInfo];
  }),
];
