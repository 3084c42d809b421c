import { Worker } from 'node:worker_threads';
import { KERNEL_LOOP_SOURCE, type KernelWorkerInit } from './kernel-loop.js';

/** A started kernel worker, as the thread pool holds it. */
export interface KernelWorker {
  terminate(): Promise<unknown> | void;
}

/**
 * Start one kernel worker and resolve once it is ready (Node: a `worker_threads` Worker, `unref`ed
 * so it never keeps the process alive). The browser build replaces this module with
 * `kernel-workers.browser.ts`.
 */
export function startKernelWorker(init: KernelWorkerInit): Promise<KernelWorker> {
  const source = `const { parentPort, workerData: init } = require('node:worker_threads');\nconst ready = () => parentPort.postMessage('ready');\n${KERNEL_LOOP_SOURCE}`;
  const w = new Worker(source, { eval: true, workerData: init });
  return new Promise<void>((resolve, reject) => {
    w.once('message', () => resolve());
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`kernel worker exited with code ${code} before it was ready`)));
  }).then(() => {
    w.removeAllListeners('exit');
    w.removeAllListeners('error');
    w.unref();
    return w;
  });
}
