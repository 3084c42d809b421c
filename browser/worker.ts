import { ConfigError, PluginRegistry, loadDataset, selectBackend, validateConfig, type ResolvedConfig } from '../core/portable.js';
import { registerPortable } from '../plugins/portable.js';
import { PlaygroundRun } from './loop.js';
import type { FromWorker, ToWorker } from './protocol.js';
import fashionMnist from './plugins/fashion-mnist.js';
import wasm from './plugins/wasm.js';

/**
 * The playground's training worker (a dedicated Web Worker: the kernels' threads wait on Atomics,
 * which a page's main thread may not). It owns the registry (the portable built-ins plus the
 * browser's backend and datasets), validates configs with the same composed JSON Schema as the CLI,
 * and runs one PlaygroundRun at a time; the page resets by ending this worker and starting another.
 */
const registry = registerPortable(new PluginRegistry());
registry.register(wasm);
registry.register(fashionMnist);

const post = (m: FromWorker) => self.postMessage(m);
const log = (text: string) => post({ type: 'status', text });
let run: PlaygroundRun | undefined;

const backendReady = selectBackend(registry, 'auto', log).then((b) => {
  post({ type: 'backend', name: b.name, details: b.details ?? '' });
  return b;
});

/** Validate as `selfsup validate` does; a tab has no callbacks of the CLI's (the page draws its own). */
function validate(config: unknown, name: string): ResolvedConfig | undefined {
  try {
    const c = structuredClone(config) as Record<string, unknown>;
    if (Array.isArray(c.callbacks) && c.callbacks.length)
      log(
        `the config's callbacks (${c.callbacks.map((x) => (x as { type?: string }).type).join(', ')}) are for Node: the page draws its own pictures and charts`,
      );
    delete c.callbacks;
    c.name ??= name;
    return validateConfig(c, registry, 'the editor');
  } catch (e) {
    if (e instanceof ConfigError) {
      post({ type: 'invalid', problems: e.problems });
      return undefined;
    }
    throw e;
  }
}

async function start(config: unknown, name: string): Promise<void> {
  const resolved = validate(config, name);
  if (!resolved) return;
  post({ type: 'valid' });
  await backendReady;
  log(`loading ${resolved.data.type} ...`);
  const data = await loadDataset(resolved, registry, log);
  log(`${data.info.name}: ${data.train.count} training and ${data.test?.count ?? 0} test images`);
  run = new PlaygroundRun(resolved, registry, data, (event) => post({ type: 'event', event }), log);
  await run.run();
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  const fail = (err: unknown) => post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  try {
    if (m.type === 'validate') {
      if (validate(m.config, m.name)) post({ type: 'valid' });
    } else if (m.type === 'start') {
      if (run) return fail(new Error('a run is already going: reset first'));
      start(m.config, m.name).catch(fail);
    } else if (m.type === 'pause') run?.pause();
    else if (m.type === 'resume') run?.resume();
    else if (m.type === 'checkpoint') {
      if (!run) return fail(new Error('no run to save yet: start one first'));
      run
        .checkpointTar()
        .then(({ name, bytes }) => (self as unknown as Worker).postMessage({ type: 'checkpoint', name, bytes } satisfies FromWorker, [bytes.buffer]))
        .catch(fail);
    }
  } catch (err) {
    fail(err);
  }
};
backendReady.catch((err) => post({ type: 'error', message: `no backend: ${(err as Error).message}` }));
