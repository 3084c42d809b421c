import { tf } from '../tf.js';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { ConvGradAttrs } from '../kernels/kernel-runner.js';
import type { SimdKernelModule } from './kernel-module.js';
import { filterGradChunk } from './conv2d-backprop-filter.js';

/**
 * `Conv2DBackpropInput` (NHWC, any stride, padding and dilation) as selfsup's SIMD kernel:
 * dx = col2im(dy W^T). The filter is transposed to `[CO, KH*KW*CI]` once; each thread takes whole
 * images and, a block of output positions at a time, forms their columns (4 positions x 8 columns
 * in registers, the reduction over CO) and adds them into dx where the forward pass read them.
 */
export function conv2dBackpropInputSimd(backendName: string, mod: SimdKernelModule): KernelConfig {
  return {
    kernelName: 'Conv2DBackpropInput',
    backendName,
    kernelFunc: function simdConv2DBackpropInput({ inputs, attrs }) {
      const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as ConvGradAttrs & { inputShape: [number, number, number, number] };
      if (dataFormat && dataFormat !== 'NHWC') throw new Error('Conv2DBackpropInput: only NHWC is supported');
      const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
      const info = tf.backend_util.computeConv2DInfo(inputShape, [kh, kw, ci, co], strides, 1, pad, dimRoundingMode, false, 'channelsLast');
      const [b, h, w] = inputShape;
      const k = kh * kw * ci;
      const out = mod.output(inputShape.slice());
      const nth = mod.threads;
      const chunk = filterGradChunk(k, co);
      mod.scratch(k * co + nth * chunk * k, (scratch) => {
        const wt = scratch;
        const cols = scratch + 4 * k * co;
        mod.run('transpose_2d', [mod.ptr(filter), k, co, wt]);
        mod.run('conv_input_grad', [mod.ptr(dy), wt, out.ptr, cols, chunk, b, h, w, ci, info.outHeight, info.outWidth, co, kh, kw, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left]);
      });
      return out.info;
    },
  };
}
