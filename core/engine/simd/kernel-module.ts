import type { TensorInfo } from '@tensorflow/tfjs-core';
import { KERNELS_WASM_PLAIN, KERNELS_WASM_SHARED, KERNEL_EXPORTS } from './kernels-binary.js';
import { WasmThreadPool } from './thread-pool.js';
import { wasmApi, type WasmMemory } from './wasm-api.js';

/** What the kernels need of tfjs-backend-wasm's backend object (4.x). */
interface WasmBackendInternals {
  wasm: {
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    /** the memory of the threaded build */
    wasmMemory?: WasmMemory;
    /** the module's exports; `memory` in the single-threaded build */
    asm?: { memory?: WasmMemory };
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

export type KernelName = (typeof KERNEL_EXPORTS)[number];

/**
 * selfsup's SIMD kernels (kernels.c) attached to a tfjs-backend-wasm backend: the module runs on
 * the backend's own memory, so kernels read and write its tensors in place, on `threads` threads
 * (the caller plus workers; one when tfjs runs its single-threaded build, whose memory cannot be
 * shared). Kernels in `core/engine/simd/` use it through `run`, `ptr`, `output` and `scratch`.
 */
export class SimdKernelModule {
  private constructor(
    private readonly backend: WasmBackendInternals,
    private readonly memory: WasmMemory,
    private readonly pool: WasmThreadPool,
  ) {}

  /** threads each kernel call runs on */
  get threads(): number {
    return this.pool.threads;
  }

  /**
   * Load the module onto `backend` (a tfjs-backend-wasm backend object) with `threads` threads.
   * Throws when the backend does not expose what the kernels need (another tfjs version).
   */
  static async attach(backend: object, threads: number): Promise<SimdKernelModule> {
    const b = backend as Partial<WasmBackendInternals>;
    const memory = b.wasm?.wasmMemory ?? b.wasm?.asm?.memory;
    if (!(memory instanceof wasmApi.Memory) || typeof b.wasm?._malloc !== 'function' || !b.dataIdMap || typeof b.makeOutput !== 'function') {
      throw new Error("this tfjs-backend-wasm does not expose its memory, malloc or tensor offsets: selfsup's SIMD kernels cannot attach");
    }
    const shared = memory.buffer instanceof SharedArrayBuffer;
    // atob, not Buffer: the same code runs in a browser's worker
    const bytes = Uint8Array.from(atob(shared ? KERNELS_WASM_SHARED : KERNELS_WASM_PLAIN), (c) => c.charCodeAt(0));
    const module = await wasmApi.compile(bytes);
    const pool = await WasmThreadPool.start(module, memory, KERNEL_EXPORTS, threads);
    return new SimdKernelModule(b as WasmBackendInternals, memory, pool);
  }

  /** byte offset of a tensor's data in the backend's memory */
  ptr(t: TensorInfo): number {
    const d = this.backend.dataIdMap.get(t.dataId);
    if (!d) throw new Error('tensor is not on this wasm backend');
    // Emscripten hands pointers to JS as signed int32: past 2 GiB they are negative
    return d.memoryOffset >>> 0;
  }

  /** a new float32 tensor on the backend (contents undefined) and its byte offset */
  output(shape: number[]): { info: TensorInfo; ptr: number } {
    const info = this.backend.makeOutput(shape, 'float32');
    return { info, ptr: this.ptr(info) };
  }

  /** a float32 view of `n` floats at byte offset `ptr` (short-lived: the memory may grow) */
  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr >>> 0, n);
  }

  /** run `fn` with `floats` float32s of scratch memory (byte offset), freed afterwards */
  scratch<T>(floats: number, fn: (ptr: number) => T): T {
    const p = this.backend.wasm._malloc(Math.max(16, floats * 4)) >>> 0;
    if (!p) throw new Error(`out of wasm memory for ${floats * 4} bytes of kernel scratch`);
    try {
      return fn(p);
    } finally {
      this.backend.wasm._free(p);
    }
  }

  /** run kernel `name(tid, nth, ...args)` on every thread */
  run(name: KernelName, args: number[]): void {
    this.pool.run(name, args);
  }

  /** stop the worker threads */
  close(): Promise<void> {
    return this.pool.close();
  }
}
