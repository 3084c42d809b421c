import os from 'node:os';
import { SelfsupError } from '../errors.js';

/**
 * Threads for a CPU backend: the first of `vars` (environment variables, e.g. SELFSUP_WASM_THREADS
 * then SELFSUP_THREADS) that is set, else every core this process may use. A sweep's runner sets
 * them to share the cores among its workers.
 */
export function cpuThreads(vars: string[] = ['SELFSUP_THREADS']): number {
  for (const name of vars) {
    const raw = process.env[name];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (Number.isInteger(n) && n >= 1) return n;
    throw new SelfsupError(`${name}='${raw}' is not a number of threads: set it to 1 or more, or unset it (one per core)`, 2);
  }
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}
