import path from 'node:path';
import { createRequire } from 'node:module';
import { Type } from '@sinclair/typebox';
import { definePlugin, registerConv2DBackpropFilter, registerConv2DBackpropInput, tf } from '../../core/index.js';

/**
 * tfjs-backend-wasm (XNNPACK, SIMD): the fast CPU path without native binaries. tfjs-backend-wasm
 * 4.22 has no Conv2DBackpropFilter kernel, so convnets cannot train on it as shipped; selfsup
 * registers one built from its Conv2D, and replaces its Conv2DBackpropInput (a plain loop) by a
 * phase decomposition into XNNPACK Conv2Ds (core/engine/kernels). Single-threaded under Node (the
 * threaded build assumes a browser; making it work is the engine issue's job).
 *
 * @example selfsup train --preset simclr --backend wasm
 */
export default definePlugin({
  kind: 'backend',
  name: 'wasm',
  description: 'WebAssembly backend (XNNPACK, SIMD) with selfsup\'s training kernels',
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
      if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
      registerConv2DBackpropFilter('wasm');
      registerConv2DBackpropInput('wasm');
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      return { name: 'wasm', details: `SIMD ${simd ? 'on' : 'off'}, 1 thread` };
    },
  }),
});
