/**
 * selfsup's programmatic API: everything in core, the built-in plugins, and the same entry points
 * the CLI uses (`resolveExperiment`, `runExperiment`, `evaluateCheckpoint`), typed.
 *
 * @example
 * import { runExperiment } from 'selfsup';
 * const r = await runExperiment('simclr', { sets: ['train.epochs=1'], outDir: 'runs/try' });
 * console.log(r.eval.knn_top1);
 */
import path from 'node:path';
import {
  ConfigError,
  DataError,
  PLUGIN_KINDS,
  PluginRegistry,
  Rng,
  Type,
  applyOverrides,
  buildRun,
  evalOptionsOf,
  loadConfig,
  loadExternalPlugins,
  packageRoot,
  randomWeightsBaseline,
  readCheckpoint,
  restoreTensors,
  runEvaluators,
  schemaOf,
  selectBackend,
  stateTensors,
  train,
  validateConfig,
  type Callback,
  type PluginDefinition,
  type PluginKind,
  type PresetSource,
  type ResolvedConfig,
  type TrainResult,
} from '../core/index.js';
import { registerBuiltins } from '../plugins/index.js';

export * from '../core/index.js';
export { builtinPlugins, registerBuiltins, knnTop1, linearProbeTop1, gamutBins } from '../plugins/index.js';
export { exportCheckpoint, tfjsFileHandler, type ExportOptions, type ExportResult, type ExportFormat } from './export.js';
export { embedCheckpoint, readNpy, encodeNpy, type EmbedOptions, type EmbedResult } from './embed/index.js';

/** A registry holding every built-in plugin. */
export function createRegistry(): PluginRegistry {
  return registerBuiltins(new PluginRegistry());
}

/** The presets shipped with the package. */
export const builtinPresets = (): PresetSource => ({ dirs: [path.join(packageRoot(), 'presets')] });

export interface ResolveOptions {
  /** `a.b=v` overrides, applied after `extends` */
  sets?: string[];
  /** extra plugin modules (as `--plugin`) */
  plugins?: string[];
  registry?: PluginRegistry;
  presets?: PresetSource;
  /**
   * false: import no plugin module (what `selfsup validate` does without --load-plugins). The slots
   * whose type a named module would provide are accepted unchecked and listed in `unchecked`.
   */
  loadPlugins?: boolean;
}

/**
 * A preset name, a config file or a config object -> a validated config, with its external plugins
 * registered. Throws ConfigError (exit code 2) listing every problem.
 */
export async function resolveExperiment(
  source: string | Record<string, unknown>,
  opts: ResolveOptions = {},
): Promise<{ config: ResolvedConfig; registry: PluginRegistry; file?: string; unchecked: string[] }> {
  const registry = opts.registry ?? createRegistry();
  const presets = opts.presets ?? builtinPresets();
  const { config: raw, file } = loadConfig(source, presets);
  const fromConfig = Array.isArray(raw.plugins) ? raw.plugins.filter((p): p is string => typeof p === 'string') : [];
  const toLoad = [...fromConfig, ...(opts.plugins ?? [])];
  if (opts.loadPlugins !== false) {
    // package names resolve from the config file's folder (its plugins) or the current one (--plugin)
    await loadExternalPlugins(registry, fromConfig, '/plugins', file ? path.dirname(file) : process.cwd());
    await loadExternalPlugins(registry, opts.plugins ?? [], '--plugin');
  }
  if (opts.plugins?.length) raw.plugins = toLoad;
  const withSets = applyOverrides(raw, opts.sets ?? [], schemaOf(registry));
  if (typeof source === 'string' && withSets.name === undefined) withSets.name = path.basename(source).replace(/\.json$/, '');
  // a problem is reported in the file the user wrote, or as coming from --set where that is where its value came from
  const sets = opts.sets ?? [];
  const where = sets.length ? `${file ?? 'the config'} with --set ${sets.map((s) => s.split('=')[0]).join(', ')}` : file;
  const unchecked: string[] = [];
  for (;;) {
    try {
      return { config: validateConfig(withSets, registry, where), registry, file, unchecked };
    } catch (e) {
      // without loading the named modules, a type they would provide is unknown: accept it unchecked
      const stubs = opts.loadPlugins === false && toLoad.length > 0 && e instanceof ConfigError ? uncheckedTypes(e) : [];
      if (stubs.length === 0) throw e;
      for (const { kind, name } of stubs) {
        registry.register(uncheckedPlugin(kind, name), 'not loaded');
        unchecked.push(`${kind} '${name}'`);
      }
    }
  }
}

/** The plugins a ConfigError says are unknown (`unknown loss 'x'`). */
function uncheckedTypes(e: ConfigError): Array<{ kind: PluginKind; name: string }> {
  return e.problems.flatMap((p) => {
    const m = /^unknown ([a-z]+) '([^']+)'$/.exec(p.message);
    return m && (PLUGIN_KINDS as readonly string[]).includes(m[1]) ? [{ kind: m[1] as PluginKind, name: m[2] }] : [];
  });
}

/** A stand-in for a plugin whose module was not loaded: any options are accepted, and it cannot be built. */
function uncheckedPlugin(kind: PluginKind, name: string): PluginDefinition {
  return {
    kind,
    name,
    description: 'not loaded (validate without --load-plugins): options unchecked',
    options: Type.Object({}, { additionalProperties: true }),
    unchecked: true,
    create: () => {
      throw new ConfigError([{ path: '', message: `${kind} '${name}' was not loaded`, hint: 'load its module: --load-plugins' }]);
    },
  } as PluginDefinition;
}

/** The built-in progress bar as a callback (what `selfsup train` shows). */
export async function progressCallback(registry: PluginRegistry = createRegistry(), every = 10): Promise<Callback> {
  return registry.create('callback', { type: 'progress', every }, { seed: 0, rng: Rng.fromSeed(0, 'progress'), path: '/callbacks', registry, log: () => {} });
}

export interface RunOptions extends ResolveOptions {
  outDir?: string;
  /** continue from the checkpoint in this directory (its config is used; `sets` still apply) */
  resume?: string;
  /** overrides config.backend */
  backend?: string;
  callbacks?: Callback[];
  log?: (m: string) => void;
  /** start a new run in `outDir` although it is not empty (a previous run's files are replaced) */
  force?: boolean;
  /** with `resume`: continue from the checkpoint before the last one (when the last is damaged) */
  previous?: boolean;
  /** checkpoint and stop on SIGINT/SIGTERM (see TrainOptions.handleSignals) */
  handleSignals?: boolean;
  /** with `resume`: a run at its budget is evaluated instead of refused (see TrainOptions.finishIfDone) */
  finishIfDone?: boolean;
}

/** Resolve and train. With `resume`, the checkpoint's own config is the source. */
export async function runExperiment(source: string | Record<string, unknown>, opts: RunOptions = {}): Promise<TrainResult> {
  let src = source;
  if (opts.resume) src = readCheckpoint(opts.resume, { previous: opts.previous }).meta.config as unknown as Record<string, unknown>;
  const sets = [...(opts.sets ?? []), ...(opts.backend ? [`backend=${opts.backend}`] : [])];
  const { config, registry } = await resolveExperiment(src, { ...opts, sets });
  return train(config, {
    registry,
    outDir: opts.outDir ?? opts.resume,
    resume: opts.resume,
    previous: opts.previous,
    callbacks: opts.callbacks,
    log: opts.log,
    force: opts.force,
    handleSignals: opts.handleSignals,
    finishIfDone: opts.finishIfDone,
  }).catch((e) => {
    // the checkpoint is fine: the --set values made another model than the one it holds
    if (opts.resume && opts.sets?.length && e instanceof DataError && e.message.startsWith('checkpoint does not match this model')) {
      const err = new ConfigError([
        {
          path: '',
          message: `--set ${opts.sets.join(' --set ')} changed the model of the run in ${opts.resume}: ${e.message}`,
          hint: 'a resumed run keeps its model; train another one with --out',
        },
      ]);
      (err as { cause?: unknown }).cause = e;
      throw err;
    }
    throw e;
  });
}

/**
 * A checkpoint's run rebuilt: its config (with `sets` and `plugins` applied; `backend` overrides
 * the config's), the backend selected, the model built and the checkpoint's weights restored. What
 * `selfsup eval`, `export` and `embed` start from.
 */
export async function loadCheckpointRun(dir: string, opts: ResolveOptions & { backend?: string; log?: (m: string) => void } = {}) {
  const { meta, values } = readCheckpoint(dir);
  const sets = [...(opts.sets ?? []), ...(opts.backend ? [`backend=${opts.backend}`] : [])];
  const { config, registry } = await resolveExperiment(meta.config as unknown as Record<string, unknown>, { ...opts, sets });
  const backend = await selectBackend(registry, config.backend, opts.log);
  const parts = await buildRun(config, { registry, log: opts.log });
  restoreTensors(meta, values, stateTensors(parts));
  return { meta, config, registry, backend, parts };
}

/**
 * Evaluate a checkpoint's encoder with its config's final evaluators (or `sets` overriding
 * `eval.final`), and, where `eval.baseline` is on (the run's config or `--set eval.baseline=true`),
 * the same encoder at its initial random weights beside it (`random_<metric>`), as training does.
 */
export async function evaluateCheckpoint(dir: string, opts: ResolveOptions & { backend?: string; log?: (m: string) => void } = {}) {
  const { meta, config, registry, backend, parts } = await loadCheckpointRun(dir, opts);
  const evalResult = await runEvaluators(parts.final, parts.tasks[0].branch, parts.data, evalOptionsOf(parts, opts.log));
  if (config.eval.baseline) Object.assign(evalResult, await randomWeightsBaseline(parts, config, registry, opts.log));
  return { name: config.name, backend: backend.name, steps: meta.step, epoch: meta.epoch, eval: evalResult };
}
