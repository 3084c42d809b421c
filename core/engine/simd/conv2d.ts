import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { conv2dInfo, type ConvGradAttrs } from '../kernels/kernel-runner.js';
import { convShapeArgs, im2colBlockRows } from './conv-args.js';
import type { SimdKernelModule } from './kernel-module.js';

/**
 * Filters up to this size use the SIMD kernel; larger ones the backend's (XNNPACK), which blocks the
 * reduction. Measured, 1 thread, forward ms XNNPACK -> SIMD: small CNN 32->64 97 -> 84, 64->128
 * 97 -> 73, ResNet-18 stage 1 (64->64) 104 -> 83; stage 2 (590 KB filter) 102 -> 103 (tie); stage 3
 * and 4 (2.4 and 9.4 MB) 102 -> 201 and 317.
 */
const FILTER_BYTES_MAX = 512 * 1024;

/**
 * `Conv2D` (NHWC, float32, any stride, padding and dilation) as selfsup's SIMD kernel: each thread
 * im2cols a block of output positions and multiplies it by the filter straight into the output
 * rows (4 positions x 8 channels in registers). Other layouts, and filters over FILTER_BYTES_MAX,
 * go to the backend's kernel.
 */
export function conv2dSimd(backendName: string, mod: SimdKernelModule, fallback?: KernelConfig): KernelConfig {
  return {
    kernelName: 'Conv2D',
    backendName,
    kernelFunc: function simdConv2D(args) {
      const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
      const attrs = args.attrs as unknown as ConvGradAttrs & { dilations?: number | [number, number] };
      const [kh, kw, ci, co] = filter.shape;
      const k = kh * kw * ci;
      const wideFilter = k * co * 4 > FILTER_BYTES_MAX;
      if ((attrs.dataFormat && attrs.dataFormat !== 'NHWC') || x.dtype !== 'float32' || (wideFilter && fallback)) {
        if (!fallback) throw new Error('Conv2D: only NHWC float32 is supported');
        return fallback.kernelFunc(args);
      }
      const info = conv2dInfo('Conv2D', x.shape, filter.shape, attrs, attrs.dilations ?? 1);
      const out = mod.output([info.batchSize, info.outHeight, info.outWidth, co]);
      const nth = mod.threads;
      const chunk = im2colBlockRows(k, co, 'filter');
      mod.scratch(nth * chunk * k, (cols) => {
        mod.run('conv_forward', [mod.ptr(x), mod.ptr(filter), out.ptr, cols, chunk, ...convShapeArgs(info)]);
      });
      return out.info;
    },
  };
}
