import { tf } from '../tf.js';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { KernelRunner, conv2dInfo, type ConvGradAttrs } from './kernel-runner.js';

/** rows of the reduction each batched-matmul slice takes (the split's target) */
const ROWS_PER_SPLIT = 4096;

/**
 * `Conv2DBackpropFilter` (NHWC) as a split reduction, for backends whose own kernel parallelises
 * over the filter's elements only: with a [3,3,1,32] first-layer filter that is 288 long loops over
 * batch x pixels (tfjs-backend-webgpu: 155 ms of a 680 ms SimCLR step on an H100). Here the
 * positions are split into S groups: A = im2col(x) `[S, P/S, KH*KW*CI]` (one strided slice per tap,
 * concatenated), D = dy `[S, P/S, CO]`, dW = sum_s A_s^T D_s: one batched matmul with S x K x CO
 * outputs in parallel, then a sum over S. S divides the batch (so the groups are whole images) and
 * aims at ROWS_PER_SPLIT rows each.
 */
export function conv2dBackpropFilterSplit(backendName: string): KernelConfig {
  return {
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: function splitConv2DBackpropFilter({ inputs, backend, attrs }) {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      const { filterShape } = attrs as unknown as { filterShape: [number, number, number, number] };
      const [b, , , ci] = x.shape as [number, number, number, number];
      const info = conv2dInfo('Conv2DBackpropFilter', x.shape, filterShape, attrs as unknown as ConvGradAttrs);
      const { top, bottom, left, right } = info.padInfo;
      const [kh, kw, , co] = filterShape;
      const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
      const r = new KernelRunner(backendName, backend);
      const xp =
        top || bottom || left || right
          ? r.run(
              'PadV2',
              { x },
              {
                paddings: [
                  [0, 0],
                  [top, bottom],
                  [left, right],
                  [0, 0],
                ],
                constantValue: 0,
              },
            )
          : x;
      const taps: TensorInfo[] = [];
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          taps.push(
            r.run(
              'StridedSlice',
              { x: xp },
              {
                begin: [0, i, j, 0],
                end: [b, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, ci],
                strides: [1, sh, sw, 1],
                beginMask: 0,
                endMask: 0,
                ellipsisMask: 0,
                newAxisMask: 0,
                shrinkAxisMask: 0,
              },
            ),
          );
        }
      }
      const cols = taps.length === 1 ? taps[0] : r.run('Concat', taps, { axis: 3 });
      const k = kh * kw * ci;
      const perImage = oh * ow;
      let s = Math.max(1, Math.min(b, Math.round((b * perImage) / ROWS_PER_SPLIT)));
      while (b % s !== 0) s--;
      const rows = (b / s) * perImage;
      const a3 = r.run('Reshape', { x: cols }, { shape: [s, rows, k] });
      const d3 = r.run('Reshape', { x: dy }, { shape: [s, rows, co] });
      const prod = r.run('BatchMatMul', { a: a3, b: d3 }, { transposeA: true, transposeB: false });
      const sum = r.run('Sum', { x: prod }, { axis: [0], keepDims: false });
      return r.finish(r.output('Reshape', { x: sum }, { shape: [kh, kw, ci, co] }));
    },
  };
}

/**
 * The split reduction where the reduction is long against the filter (positions >= `minRatio` x
 * filter elements: first layers), the backend's `stock` kernel elsewhere.
 */
export function conv2dBackpropFilterSplitWhenLong(backendName: string, stock: KernelConfig, minRatio = 16): KernelConfig {
  const split = conv2dBackpropFilterSplit(backendName);
  return {
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: function splitWhenLongConv2DBackpropFilter(args) {
      const { dy } = args.inputs as { dy: TensorInfo };
      const [kh, kw, ci, co] = (args.attrs as { filterShape: number[] }).filterShape;
      const positions = dy.shape[0] * dy.shape[1] * dy.shape[2];
      return (positions >= minRatio * kh * kw * ci * co ? split : stock).kernelFunc(args);
    },
  };
}

/**
 * selfsup's kernels for tfjs-backend-webgpu (not measured on a GPU yet: bench/gpu/ does that):
 * the split filter gradient for long reductions, and small tensors kept on the GPU
 * (`WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD` 0). `SELFSUP_WEBGPU_KERNELS=0` leaves the backend as shipped.
 * Returns what it changed.
 */
export function registerWebGpuKernels(backendName: string): string[] {
  if (process.env.SELFSUP_WEBGPU_KERNELS === '0') return [];
  tf.env().set('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD', 0);
  const stock = tf.getKernel('Conv2DBackpropFilter', backendName);
  if (!stock || stock.kernelFunc.name === 'splitWhenLongConv2DBackpropFilter') return ['handoff threshold 0'];
  tf.unregisterKernel('Conv2DBackpropFilter', backendName);
  tf.registerKernel(conv2dBackpropFilterSplitWhenLong(backendName, stock));
  return ['Conv2DBackpropFilter (split reduction)', 'handoff threshold 0'];
}
