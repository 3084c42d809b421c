import { Type } from '@sinclair/typebox';
import { definePlugin, tf } from '../../core/index.js';
import { registerWebGpuKernels } from '../../core/engine/index.js';
import { guardSyncReads } from './sync-read-guard.js';

// literal imports (optional peer dependencies, external in the build): a bundler that has them
// installed bundles them, evaluated lazily, so tfjs-backend-webgpu still loads after the globals
const BACKEND_PKG = '@tensorflow/tfjs-backend-webgpu';
const DAWN_PKG = 'webgpu';

interface GpuAdapterLike {
  info?: Record<string, string>;
  requestAdapterInfo?: () => Promise<Record<string, string>>;
}
interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

const missing = (e: unknown, pkg: string) => {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' ? `${pkg} not installed` : `${pkg}: ${(e as Error).message.split('\n')[0]}`;
};

/**
 * WebGPU through tfjs-backend-webgpu, in Node on Dawn (the `webgpu` npm package, which needs a
 * Vulkan loader, `libvulkan1`, and a GPU driver): GPUs of any vendor without CUDA. Both packages are
 * optional peers (`npm install webgpu @tensorflow/tfjs-backend-webgpu@4.22.0`). tfjs-backend-webgpu
 * reads `navigator.gpu` (and expects a `window`) when its module loads, so the probe creates the
 * Dawn GPU and sets those globals first, then asks for an adapter: no adapter (no GPU, no Vulkan)
 * is a skip reason under `auto`, not a crash. Reports the adapter. selfsup's kernels for it:
 * registerWebGpuKernels (core/engine/kernels/conv2d-backprop-filter-split.ts).
 *
 * @example npm install webgpu @tensorflow/tfjs-backend-webgpu@4.22.0 && selfsup bench --backend webgpu
 */
export default definePlugin({
  kind: 'backend',
  name: 'webgpu',
  description: 'WebGPU on Dawn (npm webgpu + @tensorflow/tfjs-backend-webgpu, if installed): GPUs of any vendor',
  // backends are selected by name (config `backend`), so a backend plugin has no options to set
  options: Type.Object({}),
  create: () => {
    let adapterText = '';
    return {
      // below wasm: measured, tfjs-backend-webgpu on an H100 took 619 ms for the small-CNN SimCLR
      // step that wasm does in about 310 ms on 2 CPU cores with selfsup's kernels; `auto` takes the
      // fastest backend, so WebGPU is chosen by name (--backend webgpu) until bench/gpu shows better
      priority: 5,
      async probe() {
        let dawn: { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
        try {
          dawn = (await import('webgpu')) as unknown as typeof dawn;
        } catch (e) {
          return { ok: false as const, reason: missing(e, DAWN_PKG) };
        }
        const g = globalThis as Record<string, unknown>;
        let gpu = (g.navigator as { gpu?: GpuLike } | undefined)?.gpu;
        if (!gpu) {
          try {
            gpu = dawn.create([]);
          } catch (e) {
            return { ok: false as const, reason: `Dawn could not start (${(e as Error).message.split('\n')[0]}): is a Vulkan loader (libvulkan1) installed?` };
          }
          for (const [k, v] of Object.entries(dawn.globals)) if (!(k in g)) g[k] = v;
          // Node 21+ has a read-only navigator: add gpu to it; Node 20 has none
          if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
          else g.navigator = { gpu };
        }
        g.window ??= globalThis;
        const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
        if (!adapter) return { ok: false as const, reason: 'no WebGPU adapter (no GPU, or no Vulkan driver for it)' };
        const info = adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {};
        adapterText = [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' / ') || 'unknown adapter';
        try {
          await import('@tensorflow/tfjs-backend-webgpu');
        } catch (e) {
          return { ok: false as const, reason: missing(e, BACKEND_PKG) };
        }
        return { ok: true as const };
      },
      async init() {
        if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed');
        // Dawn in Node has no OffscreenCanvas, through which tfjs-backend-webgpu reads synchronously:
        // such reads are refused with a sentence, and selfsup's own reads are asynchronous
        guardSyncReads('WebGPU on Dawn');
        const kernels = registerWebGpuKernels('webgpu');
        return { name: 'webgpu', details: `${adapterText}; selfsup kernels: ${kernels.join(', ') || 'none'}` };
      },
    };
  },
});
