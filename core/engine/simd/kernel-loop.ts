import type { WasmMemory, WasmModule } from './wasm-api.js';

/** What a kernel worker is started with (structured-cloned to it: the module, the shared memory and control block). */
export interface KernelWorkerInit {
  module: WasmModule;
  memory: WasmMemory;
  control: SharedArrayBuffer;
  tid: number;
  names: readonly string[];
}

/**
 * The body of a kernel worker, the same in Node and a browser: given `init` (a KernelWorkerInit)
 * and `ready()`, instantiate the module on the shared memory, then run share `tid` of each call
 * posted on the control block (see thread-pool.ts for its layout) until the function index is -1.
 */
export const KERNEL_LOOP_SOURCE = `
const { module, memory, control, tid, names } = init;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const fns = names.map((n) => instance.exports[n]);
const c = new Int32Array(control);
let gen = Atomics.load(c, 0);
ready();
for (;;) {
  Atomics.wait(c, 0, gen);
  gen = Atomics.load(c, 0);
  const fn = c[2];
  if (fn < 0) break;
  const nth = c[3], argc = c[4], args = new Array(argc);
  for (let i = 0; i < argc; i++) args[i] = c[8 + i];
  try { if (tid < nth) fns[fn](tid, nth, ...args); } catch (e) { Atomics.store(c, 5, 1); }
  Atomics.add(c, 1, 1);
  Atomics.notify(c, 1);
}
`;
