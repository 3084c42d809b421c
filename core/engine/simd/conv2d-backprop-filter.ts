import { tf } from '../tf.js';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { ConvGradAttrs } from '../kernels/kernel-runner.js';
import type { SimdKernelModule } from './kernel-module.js';

/** im2col rows per block: a block of columns and its dy rows stay in L2 (~192 KiB) while it is used */
export function filterGradChunk(k: number, co: number): number {
  return Math.max(4, Math.min(1024, Math.floor(48 * 1024 / (k + co))));
}

/**
 * `Conv2DBackpropFilter` (NHWC, any stride, padding and dilation) as selfsup's SIMD kernel: each
 * thread im2cols a block of output positions at a time and accumulates `A^T dy` into its own
 * partial filter gradient, 4 rows x 8 output channels in registers; the partials are then summed
 * (kernels.c). One pass over x and dy, no transposes, the reduction over batch x pixels split
 * between threads.
 */
export function conv2dBackpropFilterSimd(backendName: string, mod: SimdKernelModule): KernelConfig {
  return {
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: function simdConv2DBackpropFilter({ inputs, attrs }) {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as ConvGradAttrs & { filterShape: [number, number, number, number] };
      if (dataFormat && dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter: only NHWC is supported');
      const [b, h, w, ci] = x.shape as [number, number, number, number];
      const info = tf.backend_util.computeConv2DInfo([b, h, w, ci], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
      const [kh, kw, , co] = filterShape;
      const k = kh * kw * ci;
      const out = mod.output([kh, kw, ci, co]);
      const nth = mod.threads;
      const chunk = filterGradChunk(k, co);
      mod.scratch(nth * k * co + nth * chunk * k, (scratch) => {
        const parts = scratch;
        const cols = scratch + 4 * nth * k * co;
        mod.run('conv_filter_grad_part', [mod.ptr(x), mod.ptr(dy), parts, cols, chunk, b, h, w, ci, info.outHeight, info.outWidth, co, kh, kw, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left]);
        mod.run('sum_parts', [parts, nth, k * co, out.ptr]);
      });
      return out.info;
    },
  };
}
