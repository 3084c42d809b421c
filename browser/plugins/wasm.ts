import { Type } from '@sinclair/typebox';
import { definePlugin, tf } from '../../core/portable.js';
import { registerWasmTrainingKernels } from '../../core/engine/wasm-kernels.js';

/** Where the page serves tfjs-backend-wasm's .wasm files (`selfsup playground` does). */
export const WASM_FILES_PATH = '/tfjs-wasm/';

/**
 * The browser's `wasm` backend: tfjs-backend-wasm (XNNPACK, SIMD) with selfsup's training kernels,
 * as the Node plugin of the same name, on Web Workers. Threads need a cross-origin isolated page
 * (COOP/COEP headers, which `selfsup playground` sends): then one per core the browser reports;
 * otherwise one, and the backend line says why.
 */
export default definePlugin({
  kind: 'backend',
  name: 'wasm',
  description: 'WebAssembly backend (XNNPACK, SIMD, Web Worker threads) with selfsup’s training kernels',
  options: Type.Object({}),
  create: () => ({
    priority: 10,
    async probe() {
      return typeof WebAssembly === 'object' ? { ok: true as const } : { ok: false as const, reason: 'this browser has no WebAssembly' };
    },
    async init() {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths(new URL(WASM_FILES_PATH, self.location.origin).href);
      const isolated = self.crossOriginIsolated === true;
      const wanted = isolated ? Math.max(1, navigator.hardwareConcurrency || 1) : 1;
      wasm.setThreadsCount(wanted);
      // tfjs's C++ caps its pool at half the logical cores; as under Node (core/engine/wasm-threads.ts),
      // report twice the cores while it initialises, so it can have one thread per core
      const cores = Object.getOwnPropertyDescriptor(navigator, 'hardwareConcurrency');
      Object.defineProperty(navigator, 'hardwareConcurrency', { configurable: true, get: () => 2 * wanted });
      try {
        if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
      } finally {
        if (cores) Object.defineProperty(navigator, 'hardwareConcurrency', cores);
        else delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
      }
      const threads = wasm.getThreadsCount();
      const { simd, kernels } = await registerWasmTrainingKernels(threads);
      const why = isolated ? '' : ' (the page is not cross-origin isolated: no SharedArrayBuffer, one thread)';
      return { name: 'wasm', details: `SIMD ${simd ? 'on' : 'off'}, ${threads} thread${threads === 1 ? '' : 's'}${kernels}${why}` };
    },
  }),
});
