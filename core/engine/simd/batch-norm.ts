import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { SimdKernelModule } from './kernel-module.js';

/**
 * Training-mode batch normalisation (+ optional ReLU) as two kernels that backends may provide;
 * `BatchNorm` (core/nn) uses them when the active backend has them and composes tfjs ops otherwise.
 *
 * `SelfsupBatchNormTrain`: inputs `x` (channels last, any rank), `gamma` `[C]`, `beta` `[C]`;
 * attrs `eps`, `relu` -> `[y, mean, variance]`, the biased batch variance.
 * `SelfsupBatchNormTrainGrad`: inputs `dy`, `x`, `y`, `mean`, `variance`, `gamma`; same attrs
 * -> `[dx, dgamma, dbeta]`.
 */
export const BATCH_NORM_TRAIN = 'SelfsupBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'SelfsupBatchNormTrainGrad';

export interface BatchNormTrainAttrs {
  eps: number;
  relu: boolean;
}

const dims = (x: TensorInfo) => {
  const c = x.shape[x.shape.length - 1];
  return { c, m: x.shape.reduce((a, b) => a * b, 1) / c };
};

/**
 * Forward in three threaded passes over x: sums (mean), squared deviations (variance, two-pass
 * for accuracy), then y = [relu](x * scale + shift); per-channel vectors in between.
 */
export function batchNormTrainSimd(backendName: string, mod: SimdKernelModule): KernelConfig {
  return {
    kernelName: BATCH_NORM_TRAIN,
    backendName,
    kernelFunc: function simdBatchNormTrain({ inputs, attrs }) {
      const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
      const { eps, relu } = attrs as unknown as BatchNormTrainAttrs;
      const { c, m } = dims(x);
      const nth = mod.threads;
      const y = mod.output(x.shape.slice());
      const mean = mod.output([c]);
      const variance = mod.output([c]);
      mod.scratch(2 * nth * c + 2 * c, (s) => {
        const parts = s,
          blk = s + 4 * nth * c,
          scale = s + 8 * nth * c,
          shift = scale + 4 * c;
        mod.run('bn_sum_part', [mod.ptr(x), m, c, 0, parts, blk]);
        mod.run('sum_parts', [parts, nth, c, mean.ptr]);
        const mu = mod.f32(mean.ptr, c);
        for (let i = 0; i < c; i++) mu[i] /= m;
        mod.run('bn_sum_part', [mod.ptr(x), m, c, mean.ptr, parts, blk]);
        mod.run('sum_parts', [parts, nth, c, variance.ptr]);
        const v = mod.f32(variance.ptr, c),
          g = mod.f32(mod.ptr(gamma), c),
          b = mod.f32(mod.ptr(beta), c);
        const mu2 = mod.f32(mean.ptr, c),
          sc = mod.f32(scale, c),
          sh = mod.f32(shift, c);
        for (let i = 0; i < c; i++) {
          v[i] /= m;
          sc[i] = g[i] / Math.sqrt(v[i] + eps);
          sh[i] = b[i] - mu2[i] * sc[i];
        }
        mod.run('bn_apply', [mod.ptr(x), m, c, scale, shift, relu ? 1 : 0, y.ptr]);
      });
      return [y.info, mean.info, variance.info];
    },
  };
}

/**
 * Backward in two threaded passes: sums of d and d * xhat (d = dy masked by y > 0 with ReLU), then
 * dx = gamma * rstd / m * (m d - sum d - xhat sum(d xhat)), written as k1 d + k3 x + k0 per channel.
 */
export function batchNormTrainGradSimd(backendName: string, mod: SimdKernelModule): KernelConfig {
  return {
    kernelName: BATCH_NORM_TRAIN_GRAD,
    backendName,
    kernelFunc: function simdBatchNormTrainGrad({ inputs, attrs }) {
      const { dy, x, y, mean, variance, gamma } = inputs as Record<'dy' | 'x' | 'y' | 'mean' | 'variance' | 'gamma', TensorInfo>;
      const { eps, relu } = attrs as unknown as BatchNormTrainAttrs;
      const { c, m } = dims(x);
      const nth = mod.threads;
      const dx = mod.output(x.shape.slice());
      const dgamma = mod.output([c]);
      const dbeta = mod.output([c]);
      mod.scratch(4 * nth * c + 6 * c, (s) => {
        const parts = s,
          blk = s + 8 * nth * c,
          sums = s + 16 * nth * c,
          rstd = sums + 8 * c,
          k1 = rstd + 4 * c,
          k3 = k1 + 4 * c,
          k0 = k3 + 4 * c;
        const mu = mod.f32(mod.ptr(mean), c),
          v = mod.f32(mod.ptr(variance), c),
          rs = mod.f32(rstd, c);
        for (let i = 0; i < c; i++) rs[i] = 1 / Math.sqrt(v[i] + eps);
        const yPtr = relu ? mod.ptr(y) : 0;
        mod.run('bn_grad_part', [mod.ptr(dy), mod.ptr(x), yPtr, m, c, mod.ptr(mean), rstd, parts, blk]);
        mod.run('sum_parts', [parts, nth, 2 * c, sums]);
        const sm = mod.f32(sums, 2 * c),
          g = mod.f32(mod.ptr(gamma), c),
          db = mod.f32(dbeta.ptr, c),
          dg = mod.f32(dgamma.ptr, c);
        const a1 = mod.f32(k1, c),
          a3 = mod.f32(k3, c),
          a0 = mod.f32(k0, c),
          r = mod.f32(rstd, c);
        for (let i = 0; i < c; i++) {
          db[i] = sm[i];
          dg[i] = sm[c + i];
          a1[i] = g[i] * r[i];
          a3[i] = (-g[i] * r[i] * r[i] * dg[i]) / m;
          a0[i] = (-g[i] * r[i] * db[i]) / m - a3[i] * mu[i];
        }
        mod.run('bn_grad_input', [mod.ptr(dy), mod.ptr(x), yPtr, m, c, k1, k3, k0, dx.ptr]);
      });
      return [dx.info, dgamma.info, dbeta.info];
    },
  };
}
