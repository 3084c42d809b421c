import type { TensorInfo } from '@tensorflow/tfjs-core';
import { conv2dInfo, type ConvGradAttrs } from '../kernels/kernel-runner.js';
import type { tf } from '../tf.js';
import { f32, output, withFallback, type NativeKernelFactory } from './data.js';

/** The addon's 17 shape integers: B H W CI OH OW CO KH KW SH SW DH DW PT PL PB PR. */
function shapeArgs(i: tf.backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    i.batchSize,
    i.inHeight,
    i.inWidth,
    i.inChannels,
    i.outHeight,
    i.outWidth,
    i.outChannels,
    i.filterHeight,
    i.filterWidth,
    i.strideHeight,
    i.strideWidth,
    i.dilationHeight,
    i.dilationWidth,
    i.padInfo.top,
    i.padInfo.left,
    i.padInfo.bottom,
    i.padInfo.right,
  ]);
}

const nhwc = (attrs: { dataFormat?: string }) => !attrs.dataFormat || attrs.dataFormat === 'NHWC';

/**
 * `Conv2D` and both of its gradients on oneDNN (NHWC float32, any stride, padding and dilation);
 * NCHW and other dtypes go to the cpu backend's kernels.
 */
export const conv2dKernels: NativeKernelFactory = (backendName, addon, stock) => [
  withFallback('Conv2D', backendName, stock('Conv2D'), ({ inputs, attrs, backend }) => {
    const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
    const a = attrs as unknown as ConvGradAttrs & { dilations?: number | [number, number] };
    const xv = f32(backend, x),
      wv = f32(backend, filter);
    if (!xv || !wv || !nhwc(a)) return undefined;
    const info = conv2dInfo('Conv2D', x.shape, filter.shape, a, a.dilations ?? 1);
    return output(backend, [info.batchSize, info.outHeight, info.outWidth, info.outChannels], (y) => addon.conv2d(0, xv, wv, y, shapeArgs(info)));
  }),
  withFallback('Conv2DBackpropInput', backendName, stock('Conv2DBackpropInput'), ({ inputs, attrs, backend }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = attrs as unknown as ConvGradAttrs & { inputShape: [number, number, number, number] };
    const dyv = f32(backend, dy),
      wv = f32(backend, filter);
    if (!dyv || !wv || !nhwc(a)) return undefined;
    const info = conv2dInfo('Conv2DBackpropInput', a.inputShape, filter.shape, a);
    return output(backend, a.inputShape.slice(), (dx) => addon.conv2d(1, dyv, wv, dx, shapeArgs(info)));
  }),
  withFallback('Conv2DBackpropFilter', backendName, stock('Conv2DBackpropFilter'), ({ inputs, attrs, backend }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as unknown as ConvGradAttrs & { filterShape: [number, number, number, number] };
    const xv = f32(backend, x),
      dyv = f32(backend, dy);
    if (!xv || !dyv || !nhwc(a)) return undefined;
    const info = conv2dInfo('Conv2DBackpropFilter', x.shape, a.filterShape, a);
    return output(backend, a.filterShape.slice(), (dw) => addon.conv2d(2, xv, dyv, dw, shapeArgs(info)));
  }),
];
