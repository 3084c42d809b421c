import { createRegistry, selectBackend, tf, Rng, type PluginRegistry } from '../cli/api.js';

/** Activate a backend (wasm registers selfsup's kernels). */
export async function useBackend(name: 'cpu' | 'wasm', registry: PluginRegistry = createRegistry()): Promise<void> {
  await selectBackend(registry, name);
}

/** Random normal values, seeded. */
export function randn(shape: number[], seed: number): Float32Array {
  const r = Rng.fromSeed(seed, 'test');
  return r.fill(shape.reduce((a, b) => a * b, 1), (g) => g.normal());
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export { tf };
