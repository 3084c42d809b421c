import { tf } from '../tf.js';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

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
  const k = (name: string): KernelFunc => {
    const kernel = tf.getKernel(name, backendName);
    if (!kernel) throw new Error(`backend '${backendName}' has no ${name} kernel to build Conv2DBackpropFilter from`);
    return kernel.kernelFunc;
  };
  return {
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: function convConv2DBackpropFilter({ inputs, backend, attrs }) {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
        strides: [number, number] | number;
        pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
        dataFormat: 'NHWC' | 'NCHW';
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
        filterShape: [number, number, number, number];
      };
      if (dataFormat && dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter: only NHWC is supported');
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filterShape,
        strides,
        1,
        pad,
        dimRoundingMode,
        false,
        'channelsLast',
      );
      const { top, bottom, left, right } = info.padInfo;
      const temps: TensorInfo[] = [];
      const run = (name: string, ins: Record<string, TensorInfo> | TensorInfo[], at: Record<string, unknown>) => {
        const out = k(name)({ inputs: ins as never, backend, attrs: at as never }) as TensorInfo;
        temps.push(out);
        return out;
      };
      const [kh, kw, ci, co] = filterShape;
      const [, oh, ow] = dy.shape;
      let out: TensorInfo;
      // XNNPACK re-packs a convolution's filter on every call: make the smaller operand the filter.
      if (info.strideHeight === 1 && info.strideWidth === 1 && x.shape[1]! * x.shape[2]! * ci < oh! * ow! * co) {
        // stride 1, x smaller: correlate dy^T [Co, OH, OW, B] (padded) with x^T [H, W, B, Ci] as the
        // filter; output position (p, q) is tap (KH-1-p, KW-1-q): [Co, KH, KW, Ci] -> reverse -> transpose.
        const dyT = run('Transpose', { x: dy }, { perm: [3, 1, 2, 0] });
        const xT = run('Transpose', { x }, { perm: [1, 2, 0, 3] });
        const r = run('Conv2D', { x: dyT, filter: xT }, {
          strides: [1, 1],
          dilations: [1, 1],
          pad: [[0, 0], [kh - 1 - top, kh - 1 - bottom], [kw - 1 - left, kw - 1 - right], [0, 0]],
          dataFormat: 'NHWC',
        });
        const rev = run('Reverse', { x: r }, { dims: [1, 2] });
        out = k('Transpose')({ inputs: { x: rev }, backend, attrs: { perm: [1, 2, 3, 0] } as never }) as TensorInfo;
      } else {
        // x^T [Ci, H, W, B] correlated with dy^T [OH, OW, B, Co] as the filter, dilation = stride
        const xT = run('Transpose', { x }, { perm: [3, 1, 2, 0] });
        const dyT = run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
        // padding beyond what the forward pass read would add rows past KH: crop them below
        let r = run('Conv2D', { x: xT, filter: dyT }, {
          strides: [1, 1],
          dilations: [info.strideHeight, info.strideWidth],
          pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
          dataFormat: 'NHWC',
        });
        if (r.shape[1] !== kh || r.shape[2] !== kw) r = run('Slice', { x: r }, { begin: [0, 0, 0, 0], size: [r.shape[0], kh, kw, r.shape[3]] });
        out = k('Transpose')({ inputs: { x: r }, backend, attrs: { perm: [1, 2, 0, 3] } as never }) as TensorInfo;
      }
      for (const t of temps) (backend as { disposeData(id: object): void }).disposeData(t.dataId);
      return out;
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
