import {
  CHECKPOINT_FILE,
  ConfigError,
  DataError,
  PluginRegistry,
  loadDataset,
  selectBackend,
  unpackTar,
  validateConfig,
  type CheckpointMeta,
  type ResolvedConfig,
} from '../core/portable.js';
import { registerPlugins } from '../plugins/portable.js';
import { PlaygroundRun } from './loop.js';
import type { FromWorker, ToWorker } from './protocol.js';
import fashionMnist from './plugins/fashion-mnist.js';
import photoPatches from './plugins/photo-patches.js';
import wasm from './plugins/wasm.js';
import webgpu, { checkWebGpu } from './plugins/webgpu.js';

/**
 * The playground's training worker (a dedicated Web Worker: the kernels' threads wait on Atomics,
 * which a page's main thread may not). It owns the registry (the portable built-ins plus the
 * browser's backend and datasets), validates configs with the same composed JSON Schema as the CLI,
 * and runs one PlaygroundRun at a time; the page resets by ending this worker and starting another.
 */
const registry = registerPlugins(new PluginRegistry());
registry.register(wasm);
registry.register(webgpu);
registry.register(fashionMnist);
registry.register(photoPatches);

const post = (m: FromWorker) => self.postMessage(m);
const log = (text: string) => post({ type: 'status', text });
let run: PlaygroundRun | undefined;

/** The backend in use: `auto`'s choice when the worker starts, then the one a config names (`"backend": "webgpu"`). */
let backendReady = selectBackend(registry, 'auto', log).then(async (b) => {
  post({ type: 'backend', name: b.name, details: b.details ?? '' });
  const gpu = await checkWebGpu();
  post({ type: 'gpu', available: gpu.ok, text: gpu.problem ? `${gpu.text}; ${gpu.problem}` : gpu.text });
  return b;
});

/** Switch to the backend the config names, if it names one other than the one in use (a reset starts a fresh worker on `auto`). */
async function backendFor(config: ResolvedConfig): Promise<void> {
  const current = await backendReady;
  if (config.backend === 'auto' || config.backend === current.name) return;
  log(`backend ${config.backend}, as the config names ...`);
  backendReady = selectBackend(registry, config.backend, log).then((b) => {
    post({ type: 'backend', name: b.name, details: b.details ?? '' });
    return b;
  });
  await backendReady;
}

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
  await backendFor(resolved);
  log(`loading ${resolved.data.type} ...`);
  const data = await loadDataset(resolved, registry, log);
  log(`${data.info.name}: ${data.train.count} training and ${data.test?.count ?? 0} test images`);
  run = new PlaygroundRun(resolved, registry, data, (event) => post({ type: 'event', event }), log);
  await run.run();
}

/** A checkpoint .tar (downloaded from a tab, or `tar cf run.tar -C RUN checkpoint.json weights-N.bin` in Node), verified, then scored in the tab. */
async function load(bytes: Uint8Array, file: string): Promise<void> {
  const files = unpackTar(bytes, file);
  const text = files.get(CHECKPOINT_FILE);
  if (!text) throw new DataError(`${file} holds no ${CHECKPOINT_FILE}: make it with tar cf run.tar -C RUN_DIR ${CHECKPOINT_FILE} weights-N.bin`);
  const meta = JSON.parse(new TextDecoder().decode(text)) as CheckpointMeta;
  if (meta?.format !== 'selfsup-checkpoint') throw new DataError(`${file}: ${CHECKPOINT_FILE} is not a selfsup checkpoint`);
  const weights = files.get(meta.weights);
  if (!weights) throw new DataError(`${file} lacks the weight file ${meta.weights} that its ${CHECKPOINT_FILE} names`);
  if (meta.weightsSha256) {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', weights.slice()));
    if (Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') !== meta.weightsSha256)
      throw new DataError(`${file}: ${meta.weights} is damaged: its SHA-256 differs from the one ${CHECKPOINT_FILE} records`);
  }
  post({ type: 'loaded', config: meta.config, step: meta.step });
  const resolved = validate(meta.config, meta.config?.name ?? 'checkpoint');
  if (!resolved) return;
  await backendFor(resolved);
  const data = await loadDataset(resolved, registry, log);
  run = new PlaygroundRun(resolved, registry, data, (event) => post({ type: 'event', event }), log);
  await run.evaluateCheckpoint(meta, new Float32Array(weights.slice().buffer));
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
    else if (m.type === 'load') {
      if (run) return fail(new Error('a run is already going: reset first'));
      load(m.bytes, m.file).catch(fail);
    } else if (m.type === 'checkpoint') {
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
