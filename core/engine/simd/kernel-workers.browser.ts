import { KERNEL_LOOP_SOURCE, type KernelWorkerInit } from './kernel-loop.js';
import type { KernelWorker } from './kernel-workers.js';

/**
 * The browser's twin of kernel-workers.ts: a Web Worker made from the same loop. Its caller must be a
 * worker itself, since a page's main thread may not `Atomics.wait` (the playground trains in one).
 */
export function startKernelWorker(init: KernelWorkerInit): Promise<KernelWorker> {
  const source = `self.onmessage = (e) => {\nconst init = e.data;\nconst ready = () => self.postMessage('ready');\n${KERNEL_LOOP_SOURCE}\nself.close();\n};`;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const w = new Worker(url);
  return new Promise<KernelWorker>((resolve, reject) => {
    w.onmessage = () => {
      URL.revokeObjectURL(url);
      resolve(w);
    };
    w.onerror = (e) => reject(new Error(`a kernel worker failed to start: ${e.message}`));
    w.postMessage(init);
  });
}
