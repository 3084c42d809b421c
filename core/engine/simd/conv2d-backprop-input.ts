import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { conv2dInfo, type ConvGradAttrs } from '../kernels/kernel-runner.js';
import { convShapeArgs, im2colBlockRows } from './conv-args.js';
import type { SimdKernelModule } from './kernel-module.js';

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
      const { inputShape } = attrs as unknown as { inputShape: [number, number, number, number] };
      const info = conv2dInfo('Conv2DBackpropInput', inputShape, filter.shape, attrs as unknown as ConvGradAttrs);
      const [kh, kw, ci, co] = filter.shape;
      const k = kh * kw * ci;
      const out = mod.output(inputShape.slice());
      const nth = mod.threads;
      const chunk = im2colBlockRows(k, co, 'input');
      mod.scratch(k * co + nth * chunk * k, (scratch) => {
        const wt = scratch;
        const cols = scratch + 4 * k * co;
        mod.run('transpose_2d', [mod.ptr(filter), k, co, wt]);
        mod.run('conv_input_grad', [mod.ptr(dy), wt, out.ptr, cols, chunk, ...convShapeArgs(info)]);
      });
      return out.info;
    },
  };
}
