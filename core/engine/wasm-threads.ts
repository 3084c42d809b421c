import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAlive } from '../util/lock.js';

/**
 * Make tfjs-backend-wasm's threaded-SIMD build start under Node (tfjs 4.22 keeps it for browsers:
 * tensorflow/tfjs#3830). Three things stand in its way, each handled here for the duration of the
 * backend's initialisation only, then put back:
 *
 * 1. The flag `WASM_HAS_MULTITHREAD_SUPPORT` is false whenever `IS_NODE`: the caller sets it.
 * 2. Emscripten's pthread workers are created from Blob URLs (the worker script, and the module's
 *    own source it imports), which Node's `worker_threads` refuses (ERR_WORKER_PATH). While the
 *    backend initialises, `URL.createObjectURL` of those two Blobs returns real files in a private
 *    temp directory instead; the module source gets the four `require`s and the `commonjsGlobal` of
 *    the bundle it was cut from, and the worker script resolves the Blob it is sent to that file.
 * 3. tfjs's C++ caps the pool at half the logical cores (`os.cpus().length / 2`): `os.cpus` reports
 *    twice the cores during initialisation, so `threads` up to the core count can be had.
 *
 * Returns a function that undoes the patches (call it once the backend is ready, or on failure).
 * The temp directory lives until the process exits: workers may read it when they start.
 */
const TEMP_PREFIX = 'selfsup-wasm-';

/**
 * Remove the temp directories of processes that are gone (killed before their exit handler ran):
 * `selfsup-wasm-<pid>-*` whose pid no longer exists. Directories of live processes are left alone.
 */
export function removeStaleTempDirs(tmp = os.tmpdir()): number {
  let removed = 0;
  let names: string[] = [];
  try {
    names = fs.readdirSync(tmp).filter((n) => n.startsWith(TEMP_PREFIX));
  } catch {
    return 0;
  }
  for (const name of names) {
    const pid = Number(/^selfsup-wasm-(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid)) continue;
    fs.rmSync(path.join(tmp, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/** What the module source expects from the bundle it was cut from (tf-backend-wasm.node.js, lines 20-23). */
const MODULE_PRELUDE =
  "var commonjsGlobal = globalThis; var require$$0 = require('fs'), require$$1 = require('path'), require$$3 = require('perf_hooks'), require$$4 = require('os');\n";

export function patchForWasmThreads(): () => void {
  removeStaleTempDirs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${TEMP_PREFIX}${process.pid}-`));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const mainPath = path.join(dir, 'tfjs-backend-wasm-threaded-simd.js');
  const OrigBlob = globalThis.Blob;
  const origCreate = URL.createObjectURL;
  const origCpus = os.cpus;
  const texts = new WeakMap<Blob, string>();
  class TextBlob extends OrigBlob {
    constructor(...args: ConstructorParameters<typeof Blob>) {
      super(...args);
      const parts = args[0];
      if (!Array.isArray(parts) || !parts.every((p) => typeof p === 'string')) return;
      const text = parts.join('');
      texts.set(this, text);
      // the module's own source, which each pthread worker imports
      if (text.startsWith('var WasmBackendModuleThreadedSimd')) fs.writeFileSync(mainPath, MODULE_PRELUDE + text);
    }
  }
  globalThis.Blob = TextBlob as typeof Blob;
  URL.createObjectURL = (blob: Blob) => {
    const text = texts.get(blob);
    if (text === undefined) return origCreate(blob);
    if (text.startsWith('var WasmBackendModuleThreadedSimd')) return mainPath;
    const file = path.join(dir, `worker-${Math.random().toString(36).slice(2)}.js`);
    // the worker is sent the module source as a Blob: map it to the file written above
    const prelude = text.includes('WasmBackendModuleThreadedSimd(Module)')
      ? `URL.createObjectURL = () => ${JSON.stringify(mainPath)}; URL.revokeObjectURL = () => {};\n`
      : '';
    fs.writeFileSync(file, prelude + text);
    return file;
  };
  const doubled = () => [...origCpus(), ...origCpus()];
  (os as { cpus: typeof os.cpus }).cpus = doubled;
  return () => {
    globalThis.Blob = OrigBlob;
    URL.createObjectURL = origCreate;
    (os as { cpus: typeof os.cpus }).cpus = origCpus;
  };
}

/**
 * Let the process exit while tfjs-backend-wasm's pthreads idle: Emscripten `ref()`s a pthread's
 * worker while it runs, and XNNPACK's pool threads run (wait for work) for the life of the backend,
 * so a script that does not call `process.exit` never ends. Unrefs the running workers of the
 * backend's Emscripten module (`backend.wasm.PThread`); returns how many.
 */
export function unrefWasmThreads(backend: object): number {
  const pthread = (backend as { wasm?: { PThread?: { runningWorkers?: Array<{ unref?: () => void }> } } }).wasm?.PThread;
  const workers = pthread?.runningWorkers ?? [];
  for (const w of workers) w.unref?.();
  return workers.length;
}
