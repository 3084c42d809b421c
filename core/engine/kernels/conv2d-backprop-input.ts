import { tf } from '../tf.js';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { KernelRunner, conv2dInfo, type ConvGradAttrs } from './kernel-runner.js';

/**
 * `Conv2DBackpropInput` (the input gradient of a 2-D convolution) as a sub-pixel ("phase")
 * decomposition into stride-1 convolutions of the backend's fast `Conv2D`. tfjs-backend-wasm's own
 * kernel is a plain loop, several times slower than its XNNPACK Conv2D.
 *
 * For stride s, the input pixels split into s_h x s_w phases by (row mod s_h, col mod s_w). Phase
 * (ph, pw) only receives contributions from the filter taps k with (ph + pad - k) divisible by s,
 * each from dy shifted by d = (ph + pad - k) / s; so it is a stride-1 correlation of dy with the
 * sub-filter of those taps (flipped, in/out channels swapped). The phases are then interleaved
 * with Pack + Reshape. Same multiply count as the forward convolution, no zero insertion. NHWC only.
 */
export function conv2dBackpropInputViaPhases(backendName: string): KernelConfig {
  /** taps along one axis for output phase `ph`: out[r*s + ph] += dy[r + d] * W[k] */
  const taps = (ph: number, s: number, pad: number, size: number) => {
    const t: Array<{ k: number; d: number }> = [];
    for (let kk = size - 1; kk >= 0; kk--) if ((((ph + pad - kk) % s) + s) % s === 0) t.push({ k: kk, d: (ph + pad - kk) / s });
    return t; // d ascending
  };
  return {
    kernelName: 'Conv2DBackpropInput',
    backendName,
    kernelFunc: function phaseConv2DBackpropInput({ inputs, backend, attrs }) {
      const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
      const { inputShape } = attrs as unknown as { inputShape: [number, number, number, number] };
      const [KH, KW, , CO] = filter.shape;
      const info = conv2dInfo('Conv2DBackpropInput', inputShape, filter.shape, attrs as unknown as ConvGradAttrs);
      const [B, H, W, CI] = inputShape;
      const sh = info.strideHeight;
      const sw = info.strideWidth;
      const [, OH, OW] = dy.shape;
      const r = new KernelRunner(backendName, backend);
      const wv = r.raw.readSync(filter.dataId); // small: KH*KW*CI*CO
      const Hq = Math.ceil(H / sh);
      const Wq = Math.ceil(W / sw);
      const phases: TensorInfo[][] = [];
      for (let ph = 0; ph < sh; ph++) {
        const row: TensorInfo[] = [];
        for (let pw = 0; pw < sw; pw++) {
          const th = taps(ph, sh, info.padInfo.top, KH);
          const tw = taps(pw, sw, info.padInfo.left, KW);
          if (th.length === 0 || tw.length === 0) {
            row.push(r.upload([B, Hq, Wq, CI], new Float32Array(B * Hq * Wq * CI)));
            continue;
          }
          const nh = th.length;
          const nw = tw.length;
          const sub = new Float32Array(nh * nw * CO * CI); // [nh, nw, CO, CI] from W[kh, kw, ci, co]
          for (let jh = 0; jh < nh; jh++)
            for (let jw = 0; jw < nw; jw++)
              for (let ci = 0; ci < CI; ci++) {
                const src = ((th[jh].k * KW + tw[jw].k) * CI + ci) * CO;
                for (let co = 0; co < CO; co++) sub[((jh * nw + jw) * CO + co) * CI + ci] = wv[src + co];
              }
          const f = r.upload([nh, nw, CO, CI], sub);
          // correlate dy at offsets d0 .. d0+n-1; pad (or crop) dy so the result has Hq x Wq rows/cols
          let x = dy;
          let padT = -th[0].d;
          let padB = Hq + nh - 1 - (OH + padT);
          let padL = -tw[0].d;
          let padR = Wq + nw - 1 - (OW + padL);
          const cropT = Math.max(0, -padT),
            cropB = Math.max(0, -padB),
            cropL = Math.max(0, -padL),
            cropR = Math.max(0, -padR);
          if (cropT || cropB || cropL || cropR) {
            x = r.run('Slice', { x: dy }, { begin: [0, cropT, cropL, 0], size: [B, OH - cropT - cropB, OW - cropL - cropR, CO] });
            padT = Math.max(padT, 0);
            padB = Math.max(padB, 0);
            padL = Math.max(padL, 0);
            padR = Math.max(padR, 0);
          }
          row.push(
            r.run(
              'Conv2D',
              { x, filter: f },
              {
                strides: [1, 1],
                dilations: [1, 1],
                pad: [
                  [0, 0],
                  [padT, padB],
                  [padL, padR],
                  [0, 0],
                ],
                dataFormat: 'NHWC',
              },
            ),
          );
        }
        phases.push(row);
      }
      if (sh === 1 && sw === 1) return r.finish(r.output('Identity', { x: phases[0][0] }));
      const rows = phases.map((row) => r.run('Pack', row, { axis: 3 })); // [B, Hq, Wq, sw, CI]
      const st = r.run('Pack', rows, { axis: 2 }); // [B, Hq, sh, Wq, sw, CI]
      const rs = r.run('Reshape', { x: st }, { shape: [B, Hq * sh, Wq * sw, CI] });
      const exact = Hq * sh === H && Wq * sw === W;
      return r.finish(exact ? r.output('Identity', { x: rs }) : r.output('Slice', { x: rs }, { begin: [0, 0, 0, 0], size: [B, H, W, CI] }));
    },
  };
}

/** Replace `backendName`'s Conv2DBackpropInput by the phase decomposition. Returns whether it registered. */
export function registerConv2DBackpropInput(backendName: string): boolean {
  if (tf.getKernel('Conv2DBackpropInput', backendName)) tf.unregisterKernel('Conv2DBackpropInput', backendName);
  tf.registerKernel(conv2dBackpropInputViaPhases(backendName));
  return true;
}
