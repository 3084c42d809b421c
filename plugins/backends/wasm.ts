import path from 'node:path';
import { createRequire } from 'node:module';
import { Type } from '@sinclair/typebox';
import { definePlugin, tf } from '../../core/index.js';
import { guardWasmMalloc, patchForWasmThreads, registerWasmTrainingKernels, unrefWasmThreads, cpuThreads } from '../../core/engine/index.js';

/** Threads for the wasm backend: SELFSUP_WASM_THREADS, else SELFSUP_THREADS, else every core this process may use. */
export function wasmThreads(): number {
  return cpuThreads(['SELFSUP_WASM_THREADS', 'SELFSUP_THREADS']);
}

/**
 * tfjs-backend-wasm (XNNPACK, SIMD): the fast CPU path without native binaries. tfjs-backend-wasm
 * 4.22 has no Conv2DBackpropFilter kernel, so convnets cannot train on it as shipped. selfsup adds:
 * - its SIMD kernels (core/engine/simd: Conv2D for small filters, both convolution gradients,
 *   training batch norm + ReLU, Reverse, Slice), on the backend's memory and threads;
 *   SELFSUP_SIMD_KERNELS=0 turns them off, SELFSUP_SIMD_CONV2D=0 keeps XNNPACK's Conv2D;
 * - composite kernels (core/engine/kernels): the convolution gradients from XNNPACK Conv2Ds (used
 *   when the SIMD kernels are off), an Identity that shares data, a BatchMatMul that never
 *   multiplies transposed operands;
 * - threads under Node: the threaded-SIMD build is started with core/engine/wasm-threads.ts (one
 *   thread per core by default; SELFSUP_WASM_THREADS=N sets it, 1 keeps the single-threaded
 *   build; if the threaded build fails to start, the single-threaded one is used and the reason
 *   is reported), its idle threads unref'd, and an allocation past 4 GiB made an error.
 *
 * @example SELFSUP_WASM_THREADS=2 selfsup train --preset simclr --backend wasm
 */
export default definePlugin({
  kind: 'backend',
  name: 'wasm',
  description: "WebAssembly backend (XNNPACK, SIMD, threads) with selfsup's training kernels",
  options: Type.Object({}),
  create: () => ({
    priority: 10,
    async probe() {
      try {
        await import('@tensorflow/tfjs-backend-wasm');
        return { ok: true as const };
      } catch (e) {
        return { ok: false as const, reason: `@tensorflow/tfjs-backend-wasm cannot load: ${(e as Error).message}` };
      }
    },
    async init() {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const require = createRequire(import.meta.url);
      const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
      wasm.setWasmPaths(dir + path.sep);
      const wanted = wasmThreads();
      let note = '';
      let started = false;
      if (wanted > 1) {
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
        wasm.setThreadsCount(wanted);
        const undo = patchForWasmThreads();
        try {
          started = await tf.setBackend('wasm');
        } catch (e) {
          note = ` (threaded build failed: ${(e as Error).message})`;
        } finally {
          undo();
        }
        if (!started) {
          note ||= ' (threaded build failed to start)';
          tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
          wasm.setThreadsCount(1);
        }
      }
      if (!started && !(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
      const threads = wasm.getThreadsCount();
      const { simd, kernels } = await registerWasmTrainingKernels(threads, process.env.SELFSUP_SIMD_KERNELS === '0' ? 'SELFSUP_SIMD_KERNELS=0' : undefined);
      unrefWasmThreads(tf.findBackend('wasm') as object);
      guardWasmMalloc(tf.findBackend('wasm') as object);
      return { name: 'wasm', details: `SIMD ${simd ? 'on' : 'off'}, ${threads} thread${threads === 1 ? '' : 's'}${kernels}${note}` };
    },
  }),
});
