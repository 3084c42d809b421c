import { tf } from './tf.js';
import { SelfsupError } from '../errors.js';
import type { BackendInfo } from '../contracts/runtime.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { Rng } from '../rng.js';

export interface BackendChoice extends BackendInfo {
  /** backends tried before this one under `auto`, and why each was not taken */
  skipped: Array<{ name: string; reason: string }>;
}

/**
 * Activate a backend. `auto` tries the registered backends by descending priority (tensorflow,
 * wasm, cpu for the built-ins) and takes the first that loads; a named one must load or it is an
 * error that says why.
 */
export async function selectBackend(registry: PluginRegistry, requested: string, log: (m: string) => void = () => {}): Promise<BackendChoice> {
  const ctx = { seed: 0, rng: Rng.fromSeed(0, 'backend'), path: '/backend', registry, log };
  const names = requested === 'auto' ? registry.namesOf('backend') : [requested];
  const candidates = await Promise.all(names.map(async (name) => ({ name, backend: await registry.create('backend', { type: name }, ctx) })));
  candidates.sort((a, b) => b.backend.priority - a.backend.priority);
  const skipped: Array<{ name: string; reason: string }> = [];
  for (const { name, backend } of candidates) {
    const probe = await backend.probe();
    if (!probe.ok) {
      skipped.push({ name, reason: probe.reason });
      continue;
    }
    try {
      const info = await backend.init();
      await tf.ready();
      return { ...info, skipped };
    } catch (e) {
      if (e instanceof SelfsupError) throw e; // a setting of the user's (SELFSUP_WASM_THREADS), not the machine's
      skipped.push({ name, reason: `failed to initialise: ${(e as Error).message}` });
    }
  }
  const why = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  throw new SelfsupError(
    requested === 'auto'
      ? `no backend could be loaded (${why})`
      : `backend '${requested}' is not available here: ${why}. Use --backend auto to pick one that is.`,
    2,
  );
}
