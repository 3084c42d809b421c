import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { conv2dInfo, type ConvGradAttrs } from '../kernels/kernel-runner.js';
import { convShapeArgs, im2colBlockRows } from './conv-args.js';
import type { SimdKernelModule } from './kernel-module.js';

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
      const { filterShape } = attrs as unknown as { filterShape: [number, number, number, number] };
      const info = conv2dInfo('Conv2DBackpropFilter', x.shape, filterShape, attrs as unknown as ConvGradAttrs);
      const [kh, kw, ci, co] = filterShape;
      const k = kh * kw * ci;
      const out = mod.output([kh, kw, ci, co]);
      const nth = mod.threads;
      const chunk = im2colBlockRows(k, co, 'filter');
      mod.scratch(nth * k * co + nth * chunk * k, (scratch) => {
        const parts = scratch;
        const cols = scratch + 4 * nth * k * co;
        mod.run('conv_filter_grad_part', [mod.ptr(x), mod.ptr(dy), parts, cols, chunk, ...convShapeArgs(info)]);
        mod.run('sum_parts', [parts, nth, k * co, out.ptr]);
      });
      return out.info;
    },
  };
}
