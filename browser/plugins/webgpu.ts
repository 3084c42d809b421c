import { Type } from '@sinclair/typebox';
import { definePlugin, tf } from '../../core/portable.js';
import { registerWebGpuKernels } from '../../core/engine/kernels/conv2d-backprop-filter-split.js';
import { guardSyncReads } from '../../plugins/backends/sync-read-guard.js';

interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
}
interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

/** What the tab's WebGPU adapter is, or why there is none: for the backend line and the probe. */
export interface GpuAdapterReport {
  /** an adapter was granted */
  ok: boolean;
  /** "vendor / architecture / device" (", a software fallback adapter" for SwiftShader and the like), or the reason there is no adapter */
  text: string;
}

/** Ask the browser (page or worker) for a WebGPU adapter; never throws. */
export async function describeGpuAdapter(): Promise<GpuAdapterReport> {
  const gpu = (self.navigator as { gpu?: GpuLike }).gpu;
  if (!gpu) {
    const why = self.isSecureContext ? 'this browser has no WebGPU (navigator.gpu)' : 'WebGPU needs a secure context (https or localhost)';
    return { ok: false, text: why };
  }
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { ok: false, text: `WebGPU adapter request failed: ${(e as Error).message}` };
  }
  if (!adapter) return { ok: false, text: 'the browser granted no WebGPU adapter (no GPU, or WebGPU turned off)' };
  const info = adapter.info ?? {};
  const fallback = adapter.isFallbackAdapter === true || info.isFallbackAdapter === true;
  const text = [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' / ') || 'unknown adapter';
  return { ok: true, text: fallback ? `${text}, a software fallback adapter` : text };
}

/** What checkWebGpu found: the adapter, or why the tab cannot train on WebGPU. */
export interface WebGpuCheck extends GpuAdapterReport {
  /** why the tab cannot train on WebGPU (tfjs-backend-webgpu did not start) */
  problem?: string;
}

let checked: Promise<WebGpuCheck> | undefined;

/**
 * Whether the tab can train on WebGPU: an adapter, and tfjs-backend-webgpu started on it, its
 * synchronous reads of GPU data refused (guardSyncReads: selfsup reads asynchronously). Leaves the
 * active backend as it was; asked once per worker (the page's line and the backend's probe share
 * the answer); never throws.
 */
export function checkWebGpu(): Promise<WebGpuCheck> {
  checked ??= (async () => {
    const adapter = await describeGpuAdapter();
    if (!adapter.ok) return adapter;
    const previous = tf.getBackend();
    let problem: string | undefined;
    try {
      await import('@tensorflow/tfjs-backend-webgpu');
      if (!(await tf.setBackend('webgpu'))) problem = 'tf.setBackend("webgpu") failed';
      else guardSyncReads('WebGPU');
    } catch (e) {
      problem = `tfjs-backend-webgpu did not start: ${(e as Error).message.split('\n')[0]}`;
    } finally {
      if (previous && previous !== 'webgpu') await tf.setBackend(previous);
    }
    return { ...adapter, ok: !problem, problem };
  })();
  return checked;
}

/**
 * The browser's `webgpu` backend: tfjs-backend-webgpu (bundled into the page's worker) on the
 * adapter the browser grants, with selfsup's WebGPU kernels (registerWebGpuKernels). It ranks below
 * `wasm`, as the Node plugin of the same name does and for the same measured reason: tfjs's WebGPU
 * training step was slower on an H100 than wasm SIMD on 2 CPU cores (bench/gpu). So `auto` keeps
 * wasm and the page names the adapter; `"backend": "webgpu"` in the config trains on it. A
 * synchronous read of GPU data is refused with a sentence (guardSyncReads), never returned as the
 * silent zeros some browsers give: selfsup's own reads are asynchronous.
 *
 * @example { "backend": "webgpu" }
 */
export default definePlugin({
  kind: 'backend',
  name: 'webgpu',
  description: 'WebGPU through tfjs-backend-webgpu on the adapter the browser grants (chosen by name: "backend": "webgpu")',
  options: Type.Object({}),
  create: () => {
    let adapterText = '';
    return {
      priority: 5,
      async probe() {
        const r = await checkWebGpu();
        adapterText = r.text;
        return r.ok ? { ok: true as const } : { ok: false as const, reason: r.problem ?? r.text };
      },
      async init() {
        if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed');
        const kernels = registerWebGpuKernels('webgpu');
        return { name: 'webgpu', details: `${adapterText}; selfsup kernels: ${kernels.join(', ') || 'none'}` };
      },
    };
  },
});
