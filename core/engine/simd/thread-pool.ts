import { startKernelWorker, type KernelWorker } from './kernel-workers.js';
import { wasmApi, type WasmInstance, type WasmMemory, type WasmModule } from './wasm-api.js';

/**
 * Runs one exported function of a WebAssembly module on N threads at once: the calling thread
 * plus N-1 workers (`kernel-workers.ts`: worker_threads in Node, Web Workers in a browser), each with its own instance of the module on the same shared memory.
 * Every call is `fn(tid, nth, ...args)` with i32 arguments and returns when all N shares are done,
 * so a tfjs kernel can use it synchronously. The workers sleep in `Atomics.wait` between calls.
 *
 * Control block (Int32Array on a SharedArrayBuffer): [0] generation, [1] shares done by workers,
 * [2] function index (-1: exit), [3] nth, [4] argument count, [5] a worker's error flag, [8..] args.
 */

const MAX_ARGS = 56;
/** how long a call may wait for its workers before it is declared hung */
const CALL_DEADLINE_MS = 10 * 60 * 1000;

export class WasmThreadPool {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(4 * (8 + MAX_ARGS)));
  private readonly workers: KernelWorker[] = [];
  private readonly fns: Array<(...a: number[]) => void>;
  private readonly index = new Map<string, number>();

  private constructor(
    instance: WasmInstance,
    names: readonly string[],
    /** threads per call, the caller's included */
    readonly threads: number,
  ) {
    this.fns = names.map((n) => instance.exports[n] as (...a: number[]) => void);
    names.forEach((n, i) => this.index.set(n, i));
  }

  /**
   * Instantiate `module` on `memory` here and on `threads - 1` workers (which needs a shared memory;
   * with a plain one the pool runs everything on the calling thread).
   */
  static async start(module: WasmModule, memory: WasmMemory, names: readonly string[], threads: number): Promise<WasmThreadPool> {
    const shared = memory.buffer instanceof SharedArrayBuffer;
    const n = shared ? Math.max(1, threads) : 1;
    const pool = new WasmThreadPool(new wasmApi.Instance(module, { env: { memory } }), names, n);
    await Promise.all(
      Array.from({ length: n - 1 }, async (_, i) => {
        pool.workers.push(await startKernelWorker({ module, memory, control: pool.ctl.buffer, tid: i + 1, names }));
      }),
    );
    return pool;
  }

  /** call `name(tid, nth, ...args)` on every thread; returns when all have finished */
  run(name: string, args: number[]): void {
    const fi = this.index.get(name);
    if (fi === undefined) throw new Error(`no kernel '${name}' in the module`);
    const nth = this.threads;
    if (nth === 1 || this.workers.length === 0) {
      this.fns[fi](0, 1, ...args);
      return;
    }
    if (args.length > MAX_ARGS) throw new Error(`kernel '${name}': ${args.length} arguments, at most ${MAX_ARGS}`);
    const c = this.ctl;
    c[2] = fi;
    c[3] = nth;
    c[4] = args.length;
    c[5] = 0;
    for (let i = 0; i < args.length; i++) c[8 + i] = args[i];
    Atomics.store(c, 1, 0);
    Atomics.add(c, 0, 1);
    Atomics.notify(c, 0);
    let failure: unknown;
    try {
      this.fns[fi](0, nth, ...args);
    } catch (e) {
      failure = e;
    }
    const deadline = Date.now() + CALL_DEADLINE_MS;
    for (;;) {
      const done = Atomics.load(c, 1);
      if (done >= nth - 1) break;
      if (Date.now() > deadline) throw new Error(`kernel '${name}': ${nth - 1 - done} worker(s) did not finish within ${CALL_DEADLINE_MS / 1000} s`);
      Atomics.wait(c, 1, done, 1000);
    }
    if (failure) throw failure;
    if (c[5]) throw new Error(`kernel '${name}' failed on a worker thread`);
  }

  /** stop the workers (the pool cannot run afterwards) */
  async close(): Promise<void> {
    this.ctl[2] = -1;
    Atomics.add(this.ctl, 0, 1);
    Atomics.notify(this.ctl, 0);
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
