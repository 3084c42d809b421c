import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { SimdKernelModule } from './kernel-module.js';

/**
 * `Slice` (float32, rank <= 4) as a threaded copy of contiguous rows. tfjs-backend-wasm's own
 * kernel took 86 ms for the 22 slices of a MoCo v2 step (the Gaussian blur's shifted taps,
 * `[256, 28, 30, 1]`). Other dtypes and ranks fall back to the backend's kernel.
 */
export function sliceSimd(backendName: string, mod: SimdKernelModule, fallback?: KernelConfig): KernelConfig {
  return {
    kernelName: 'Slice',
    backendName,
    kernelFunc: function simdSlice(args) {
      const { x } = args.inputs as { x: TensorInfo };
      const rank = x.shape.length;
      if (x.dtype !== 'float32' || rank > 4 || rank === 0) {
        if (!fallback) throw new Error(`Slice: ${x.dtype} rank ${rank} not supported`);
        return fallback.kernelFunc(args);
      }
      const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
      const b = Array.isArray(begin) ? begin : [begin];
      const s = (Array.isArray(size) ? size : [size]).map((v, i) => (v === -1 ? x.shape[i] - (b[i] ?? 0) : v));
      const pad = 4 - rank;
      const d4 = [...Array(pad).fill(1), ...x.shape];
      const b4 = [...Array(pad).fill(0), ...x.shape.map((_, i) => b[i] ?? 0)];
      const s4 = [...Array(pad).fill(1), ...x.shape.map((dim, i) => s[i] ?? dim - (b[i] ?? 0))];
      const out = mod.output(s4.slice(pad));
      if (s4.every((v) => v > 0)) mod.run('slice_4d', [mod.ptr(x), d4[1], d4[2], d4[3], ...b4, ...s4, out.ptr]);
      return out.info;
    },
  };
}
