import { tf } from '../tf.js';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { KernelRunner, conv2dInfo, type ConvGradAttrs } from './kernel-runner.js';

/**
 * `Conv2DBackpropFilter` (the filter gradient of a 2-D convolution) built from the backend's own
 * `Conv2D`, for backends that lack it (tfjs-backend-wasm 4.22 has none, so no convnet can train
 * there). With `x` `[B, H, W, Ci]`, `dy` `[B, OH, OW, Co]`, stride s and padding p:
 *
 *   dW[kh, kw, ci, co] = sum_{b,i,j} xpad[b, i*s + kh, j*s + kw, ci] * dy[b, i, j, co]
 *
 * which is one stride-1 convolution of `x^T` `[Ci, H, W, B]` with `dy^T` `[OH, OW, B, Co]` as the
 * filter and dilation s (the batch becomes the reduced channel axis), giving `[Ci, KH', KW', Co]`;
 * a slice to `[KH, KW]` and a transpose give `[KH, KW, Ci, Co]`. XNNPACK packs a convolution's
 * filter on every call, so with stride 1 and `x` the smaller operand (a first layer: Ci = 1) the
 * roles swap: `dy^T` is correlated with `x^T` as the filter and the result is flipped. NHWC only.
 */
export function conv2dBackpropFilterViaConv(backendName: string): KernelConfig {
  return {
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: function convConv2DBackpropFilter({ inputs, backend, attrs }) {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      const { filterShape } = attrs as unknown as { filterShape: [number, number, number, number] };
      const info = conv2dInfo('Conv2DBackpropFilter', x.shape, filterShape, attrs as unknown as ConvGradAttrs);
      const { top, bottom, left, right } = info.padInfo;
      const r = new KernelRunner(backendName, backend);
      const [kh, kw, ci, co] = filterShape;
      const [, oh, ow] = dy.shape;
      // XNNPACK re-packs a convolution's filter on every call: make the smaller operand the filter.
      if (info.strideHeight === 1 && info.strideWidth === 1 && x.shape[1]! * x.shape[2]! * ci < oh! * ow! * co) {
        // stride 1, x smaller: correlate dy^T [Co, OH, OW, B] (padded) with x^T [H, W, B, Ci] as the
        // filter; output position (p, q) is tap (KH-1-p, KW-1-q): [Co, KH, KW, Ci] -> reverse -> transpose.
        const dyT = r.run('Transpose', { x: dy }, { perm: [3, 1, 2, 0] });
        const xT = r.run('Transpose', { x }, { perm: [1, 2, 0, 3] });
        const conv = r.run(
          'Conv2D',
          { x: dyT, filter: xT },
          {
            strides: [1, 1],
            dilations: [1, 1],
            pad: [
              [0, 0],
              [kh - 1 - top, kh - 1 - bottom],
              [kw - 1 - left, kw - 1 - right],
              [0, 0],
            ],
            dataFormat: 'NHWC',
          },
        );
        const rev = r.run('Reverse', { x: conv }, { dims: [1, 2] });
        return r.finish(r.output('Transpose', { x: rev }, { perm: [1, 2, 3, 0] }));
      }
      // x^T [Ci, H, W, B] correlated with dy^T [OH, OW, B, Co] as the filter, dilation = stride
      const xT = r.run('Transpose', { x }, { perm: [3, 1, 2, 0] });
      const dyT = r.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
      let conv = r.run(
        'Conv2D',
        { x: xT, filter: dyT },
        {
          strides: [1, 1],
          dilations: [info.strideHeight, info.strideWidth],
          pad: [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ],
          dataFormat: 'NHWC',
        },
      );
      // padding beyond what the forward pass read adds rows past KH: crop them
      if (conv.shape[1] !== kh || conv.shape[2] !== kw)
        conv = r.run('Slice', { x: conv }, { begin: [0, 0, 0, 0], size: [conv.shape[0], kh, kw, conv.shape[3]] });
      return r.finish(r.output('Transpose', { x: conv }, { perm: [1, 2, 0, 3] }));
    },
  };
}

/**
 * Register the kernel for `backendName` if that backend lacks it (or unconditionally with
 * `replace`). Returns whether it registered.
 */
export function registerConv2DBackpropFilter(backendName: string, replace = false): boolean {
  if (tf.getKernel('Conv2DBackpropFilter', backendName)) {
    if (!replace) return false;
    tf.unregisterKernel('Conv2DBackpropFilter', backendName);
  }
  tf.registerKernel(conv2dBackpropFilterViaConv(backendName));
  return true;
}
