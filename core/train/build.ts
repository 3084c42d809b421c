import { tf, type Tensor4D, type Variable } from '../engine/tf.js';
import type { Augmenter } from '../contracts/augmenter.js';
import type { DatasetInfo, LoadedDataset } from '../contracts/data.js';
import type { Evaluator } from '../contracts/evaluator.js';
import type { EvalOptions } from '../eval/evaluate.js';
import type { Branch, Encoder, Head } from '../contracts/modules.js';
export type { KeyedParam } from './param-groups.js';
import type { Loss, NegativeSource, TargetBranch } from '../contracts/objective.js';
import type { Optimizer } from '../contracts/optimizer.js';
import type { Callback } from '../contracts/runtime.js';
import type { Schedule } from '../contracts/schedule.js';
import { taskPath, type ResolvedConfig, type TaskConfig } from '../config/experiment.js';
import type { ParamStore } from '../nn/params.js';
import { ParamGroups, type KeyedParam } from './param-groups.js';
import { ScalarSchedules } from './scalar-schedules.js';
import type { PluginContext, PluginRef } from '../plugin/definition.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { DataError, PluginError, SelfsupError } from '../errors.js';
import { Rng } from '../rng.js';

/** One pretext task, built. */
export interface TaskRuntime {
  name: string;
  config: TaskConfig;
  augmenter: Augmenter;
  head: Head;
  /** online only: reads the head's `z`, gives `p` */
  predictor?: Head;
  target: TargetBranch;
  negatives: NegativeSource;
  loss: Loss;
  weight: number;
  /** the online branch: the shared encoder with this task's head and predictor */
  branch: Branch;
  /** the JSON path of this task's plugins ('' or `/tasks/<name>`), for messages */
  path: string;
}

/** Everything a run is made of, built from a validated config. */
export interface RunParts {
  config: ResolvedConfig;
  data: LoadedDataset;
  info: DatasetInfo;
  encoder: Encoder;
  tasks: TaskRuntime[];
  optimizer: Optimizer;
  schedule: Schedule;
  /** trainable parameters (encoder, heads, predictors), each once */
  params: KeyedParam[];
  /** each parameter's group (`paramGroups`): learning rate, decay, freezing */
  groups: ParamGroups;
  /** the config's `schedules` of plugin options other than the learning rate */
  scalars: ScalarSchedules;
  monitor: Evaluator[];
  final: Evaluator[];
  callbacks: Callback[];
  /** every plugin's RNG stream, by a stable key (checkpoints save their states) */
  rngs: Map<string, Rng>;
  /** a new encoder from the run's encoder config (initial weights from a stream of its own, not in `rngs`): evaluators copy the trained one into it */
  newEncoder(): Promise<Encoder>;
}

export interface BuildOptions {
  registry: PluginRegistry;
  outDir?: string;
  log?: (m: string) => void;
  /** a dataset already loaded (tests, sweeps) instead of loading `config.data` */
  data?: LoadedDataset;
}

/** What the encoder is evaluated on: the first task's `Augmenter.evalView`, if it has one. */
export function evalViewOf(parts: Pick<RunParts, 'tasks'>): ((x: Tensor4D) => Tensor4D) | undefined {
  const aug = parts.tasks[0].augmenter;
  return aug.evalView ? (x) => aug.evalView!(x) : undefined;
}

/** The evaluators' options for a run: the config's eval settings, its eval view and encoder factory. */
export function evalOptionsOf(parts: RunParts, log?: (m: string) => void): EvalOptions {
  const { config } = parts;
  return {
    batchSize: config.eval.batchSize,
    trainLimit: config.eval.trainLimit,
    seed: config.seed,
    log,
    evalView: evalViewOf(parts),
    newEncoder: parts.newEncoder,
  };
}

export { taskPath };

/** Load the config's dataset (its plugin seeded as in a run), e.g. once for several runs on the same data. */
export async function loadDataset(config: ResolvedConfig, registry: PluginRegistry, log: (m: string) => void = () => {}): Promise<LoadedDataset> {
  const ctx: PluginContext = { seed: config.seed, rng: Rng.fromSeed(config.seed, '/data'), path: '/data', registry, log };
  return (await registry.create('dataset', config.data, ctx)).load();
}

/** Build every plugin of a run, in dependency order: dataset, encoder, tasks, optimizer, evaluators. */
export async function buildRun(config: ResolvedConfig, opts: BuildOptions): Promise<RunParts> {
  const { registry } = opts;
  const log = opts.log ?? (() => {});
  const rngs = new Map<string, Rng>();
  const streamOf = (path: string) => {
    const rng = Rng.fromSeed(config.seed, path);
    let key = path;
    for (let n = 1; rngs.has(key); n++) key = `${path}#${n}`;
    rngs.set(key, rng);
    return rng;
  };
  const ctx = (path: string, extra: Partial<PluginContext> = {}): PluginContext => ({
    seed: config.seed,
    rng: streamOf(path),
    path,
    registry,
    outDir: opts.outDir,
    log,
    ...extra,
  });
  const data = opts.data ?? (await loadDataset(config, registry, log));
  const info = data.info;
  if (data.train.count < config.train.batchSize) {
    throw new DataError(
      `the training set has ${data.train.count} images, fewer than train.batchSize=${config.train.batchSize}: lower it (--set train.batchSize=${Math.max(2, 2 ** Math.floor(Math.log2(data.train.count)))})`,
    );
  }
  const encoder = guarded(await registry.create('encoder', config.encoder, ctx('/encoder', { dataset: info })), `encoder '${config.encoder.type}' at /encoder`);
  const mapShape = mapShapeOf(encoder, info, `encoder '${config.encoder.type}'`);
  const headCtx = (path: string) => ctx(path, { dataset: info, encoder: { dim: encoder.dim, mapShape }, input: 'h', inputDim: encoder.dim });

  const tasks: TaskRuntime[] = [];
  for (const [name, t] of Object.entries(config.tasks)) {
    const base = taskPath(config, name);
    const head = guarded(await registry.create('head', t.head, headCtx(`${base}/head`)), `head '${t.head.type}' at ${base}/head`);
    const predictor =
      t.predictor &&
      guarded(
        await registry.create(
          'head',
          t.predictor,
          ctx(`${base}/predictor`, { dataset: info, encoder: { dim: encoder.dim, mapShape }, input: 'z', inputDim: head.dim }),
        ),
        `predictor '${t.predictor.type}' at ${base}/predictor`,
      );
    const branch: Branch = { encoder, head, predictor };
    // a copy of the encoder and the head, never the predictor (BYOL's target network)
    const makeCopy = async (): Promise<Branch> => {
      const e = guarded(await registry.create('encoder', config.encoder, ctx('/encoder', { dataset: info })), `encoder '${config.encoder.type}' at /encoder`);
      const h = guarded(await registry.create('head', t.head, headCtx(`${base}/head`)), `head '${t.head.type}' at ${base}/head`);
      e.params.copyFrom(encoder.params);
      h.params.copyFrom(head.params);
      return { encoder: e, head: h };
    };
    const target = guarded(await registry.create('target', t.target, ctx(`${base}/target`, { dataset: info })), `target '${t.target.type}' at ${base}/target`);
    try {
      await target.attach(branch, makeCopy);
    } catch (e) {
      if (e instanceof SelfsupError) throw e;
      throw new PluginError(`target '${t.target.type}' at ${base}/target failed in attach(): ${e instanceof Error ? e.message : String(e)}`, e);
    }
    tasks.push({
      name,
      config: t,
      augmenter: guardedAugmenter(
        await registry.create('augmenter', t.augmenter, ctx(`${base}/augmenter`, { dataset: info })),
        `augmenter '${t.augmenter.type}' at ${base}/augmenter`,
      ),
      head,
      target,
      negatives: await registry.create('negatives', t.negatives, ctx(`${base}/negatives`, { dataset: info, inputDim: head.dim, trainCount: data.train.count })),
      loss: guardedLoss(
        await registry.create('loss', t.loss, ctx(`${base}/loss`, { dataset: info, inputDim: head.dim })),
        `loss '${t.loss.type}' at ${base}/loss`,
      ),
      weight: t.weight,
      branch,
      predictor,
      path: base,
    });
  }

  const params: KeyedParam[] = [...modulesOf({ encoder, tasks })].flatMap(([prefix, store]) =>
    store.trainable().map((p) => ({ ...p, key: `${prefix}/${p.name}` })),
  );
  const groups = new ParamGroups(params, config.paramGroups);
  const optimizer = await registry.create('optimizer', config.optimizer, ctx('/optimizer'));
  optimizer.init(params.map((p) => ({ ...p, name: p.key })));
  const schedule = await registry.create('schedule', config.schedule, ctx('/schedule'));
  const instanceAt = (slot: string[]): object | undefined => {
    if (slot[0] !== 'tasks') return ({ encoder, optimizer, schedule } as Record<string, object>)[slot[0]];
    const t = tasks.find((x) => x.name === slot[1]);
    return t && (t as unknown as Record<string, object>)[slot[2]];
  };
  const scalars = await ScalarSchedules.build(config, registry, instanceAt, (path) => ctx(path));
  const evaluators = (refs: PluginRef[], at: string) => Promise.all(refs.map((r, i) => registry.create('evaluator', r, ctx(`${at}/${i}`, { dataset: info }))));
  const callbacks = await Promise.all(config.callbacks.map((r, i) => registry.create('callback', r, ctx(`/callbacks/${i}`))));
  return {
    config,
    data,
    info,
    encoder,
    tasks,
    optimizer,
    schedule,
    params,
    groups,
    scalars,
    monitor: await evaluators(config.eval.monitor, '/eval/monitor'),
    final: await evaluators(config.eval.final, '/eval/final'),
    callbacks,
    rngs,
    newEncoder: () =>
      registry.create('encoder', config.encoder, {
        seed: config.seed,
        rng: Rng.fromSeed(config.seed, '/encoder'),
        path: '/encoder',
        registry,
        log,
        dataset: info,
      }),
  };
}

/**
 * A plugin instance whose methods, when its own code throws, throw a PluginError naming it (kind,
 * name, config path) with the error's first line; selfsup's own errors pass unchanged. `afterStep`,
 * `forward`, `apply` and `viewsRead` run outside the step's per-slot labelling.
 */
function guarded<T extends object>(instance: T, label: string, methods = ['forward', 'afterStep', 'apply', 'viewsRead']): T {
  for (const m of methods) {
    const f = (instance as Record<string, unknown>)[m];
    if (typeof f !== 'function') continue;
    (instance as Record<string, unknown>)[m] = (...args: unknown[]) => {
      try {
        return f.apply(instance, args);
      } catch (e) {
        if (e instanceof SelfsupError) throw e;
        throw new PluginError(`${label}: ${e instanceof Error ? e.message : String(e)}`, e);
      }
    };
  }
  return instance;
}

/** An augmenter whose result is checked: at least one view, each [N, H, W, C] with the batch's N. */
function guardedAugmenter(augmenter: Augmenter, label: string): Augmenter {
  const apply = guarded(augmenter, label).apply.bind(augmenter);
  augmenter.apply = (x, rng) => {
    const r = apply(x, rng);
    const views = r?.views;
    if (!Array.isArray(views) || views.length === 0)
      throw new PluginError(`${label}: apply() must return { views } with at least one view (got ${Array.isArray(views) ? 'none' : String(views)})`);
    views.forEach((v, i) => {
      if (!(v instanceof tf.Tensor) || v.rank !== 4 || v.shape[0] !== x.shape[0])
        throw new PluginError(
          `${label}: apply() view ${i} must be a [N, H, W, C] tensor with the batch's N = ${x.shape[0]} (got ${v instanceof tf.Tensor ? `[${v.shape}]` : String(v)})`,
        );
    });
    return r;
  };
  return augmenter;
}

/** A loss whose `viewsRead` indices and `compute` result are checked (compute's errors are labelled by the step). */
function guardedLoss(loss: Loss, label: string): Loss {
  guarded(loss, label, ['afterStep']);
  const { viewsRead, compute } = loss;
  if (viewsRead)
    loss.viewsRead = (n) => {
      const r = guarded({ viewsRead }, label, ['viewsRead']).viewsRead(n);
      const bad = [...(r?.online ?? []), ...(r?.target ?? [])].find((v) => !Number.isInteger(v) || v < 0 || v >= n);
      if (!r || bad !== undefined) throw new PluginError(`${label}: viewsRead(${n}) names view ${bad}, but there are ${n} views (0 to ${n - 1})`);
      return r;
    };
  loss.compute = (inputs) => {
    const out = compute.call(loss, inputs);
    const value = out instanceof tf.Tensor || !out || typeof out !== 'object' ? out : (out as { loss?: unknown }).loss;
    if (!(value instanceof tf.Tensor) || value.rank !== 0)
      throw new Error(
        `compute() must return a scalar tensor, or { loss, terms } (got ${value instanceof tf.Tensor ? `a tensor of shape [${value.shape}]` : String(value)})`,
      );
    return out;
  };
  return loss;
}

/** The spatial map's shape `[h, w, C]`, by running the encoder once on a zero image. */
export function mapShapeOf(encoder: Encoder, info: DatasetInfo, name = 'the encoder'): number[] {
  const problem = (what: string) => new PluginError(`${name} at /encoder does not keep the Encoder contract: ${what}`);
  const map = tf.tidy(() => {
    const out = encoder.forward(tf.zeros([1, info.height, info.width, info.channels]), false);
    if (!out || typeof out !== 'object') throw problem(`forward() returned ${String(out)}, not { h, map }`);
    if (!(out.h instanceof tf.Tensor) || out.h.rank !== 2)
      throw problem(`forward() must return h, a [N, D] tensor (got ${out.h instanceof tf.Tensor ? `rank ${out.h.rank}` : String(out.h)})`);
    if (out.h.shape[1] !== encoder.dim) throw problem(`forward() returned h of width ${out.h.shape[1]}, but the encoder's dim says ${encoder.dim}`);
    if (!(out.map instanceof tf.Tensor) || out.map.rank !== 4)
      throw problem(
        `forward() must return map, the last [N, h, w, C] feature map (got ${out.map instanceof tf.Tensor ? `rank ${out.map.rank}` : String(out.map)})`,
      );
    return out.map;
  });
  const shape = map.shape.slice(1);
  map.dispose();
  return shape;
}

/** The parameter stores of a run by key prefix: `encoder`, `tasks/<name>/head`, `tasks/<name>/predictor`. */
function* modulesOf(parts: Pick<RunParts, 'encoder' | 'tasks'>): Generator<[string, ParamStore]> {
  yield ['encoder', parts.encoder.params];
  for (const t of parts.tasks) {
    yield [`tasks/${t.name}/head`, t.head.params];
    if (t.predictor) yield [`tasks/${t.name}/predictor`, t.predictor.params];
  }
}

/** Every tensor a checkpoint holds, by a stable key: model parameters and buffers, optimizer slots, plugin state. */
export function stateTensors(parts: RunParts): Map<string, Variable> {
  const m = new Map<string, Variable>();
  for (const [prefix, store] of modulesOf(parts)) for (const p of store.list()) m.set(`${prefix}/${p.name}`, p.variable);
  for (const t of parts.tasks) {
    for (const [k, v] of t.target.state?.() ?? []) m.set(`tasks/${t.name}/target/${k}`, v);
    for (const [k, v] of t.negatives.state?.() ?? []) m.set(`tasks/${t.name}/negatives/${k}`, v);
    for (const [k, v] of t.loss.state?.() ?? []) m.set(`tasks/${t.name}/loss/${k}`, v);
  }
  for (const [k, v] of parts.optimizer.state()) m.set(`optimizer/${k}`, v);
  return m;
}
