import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ConfigError, type ConfigProblem } from '../errors.js';
import type { PluginKind } from '../plugin/definition.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { TASK_KEYS, taskPath, type ExperimentConfig, type ResolvedConfig, type TaskConfig } from './experiment.js';
import { composeSchema } from './schema.js';
import { closest } from './did-you-mean.js';
import { checkPath } from '../platform/path-exists.js';

/**
 * Options keyword for paths that must exist: `Type.String({ 'x-exists': 'file' | 'dir' })`.
 * Relative paths are taken from the current directory.
 */
export const EXISTS_KEYWORD = 'x-exists';

interface Compiled {
  version: number;
  ajv: Ajv;
  schema: Record<string, unknown>;
  validate: ValidateFunction;
}
const cache = new WeakMap<PluginRegistry, Compiled>();

/** The registry's composed schema, compiled once per set of registered plugins. */
function compiled(registry: PluginRegistry): Compiled {
  let c = cache.get(registry);
  if (!c || c.version !== registry.version) {
    const ajv = new Ajv({ useDefaults: true, discriminator: true, allErrors: true, strict: false, verbose: true });
    ajv.addKeyword({
      keyword: EXISTS_KEYWORD,
      type: 'string',
      schemaType: 'string',
      errors: true,
      validate: function existsCheck(kind: string, data: string) {
        const { ok, where } = checkPath(data, kind);
        if (!ok) {
          (existsCheck as unknown as { errors: Partial<ErrorObject>[] }).errors = [
            { keyword: EXISTS_KEYWORD, message: `${kind} not found: ${where}`, params: { kind } },
          ];
        }
        return ok;
      },
    });
    const schema = composeSchema(registry);
    c = { version: registry.version, ajv, schema, validate: ajv.compile(schema) };
    cache.set(registry, c);
  }
  return c;
}

/** The composed schema a registry validates against. */
export const schemaOf = (registry: PluginRegistry) => compiled(registry).schema;

/**
 * Validate a merged config in one ajv pass (defaults filled in place), then normalise its tasks.
 * Throws a ConfigError listing every problem with its JSON path and a hint.
 */
export function validateConfig(raw: unknown, registry: PluginRegistry, source?: string): ResolvedConfig {
  const { validate } = compiled(registry);
  const data = structuredClone(raw) as Record<string, unknown>;
  const problems: ConfigProblem[] = [];
  if (!validate(data)) problems.push(...dedupe(withoutConstBranches(validate.errors ?? []).map((e) => describe(e, registry))));
  if (problems.length === 0) problems.push(...taskProblems(data as ExperimentConfig));
  if (problems.length) throw new ConfigError(problems, source);
  const resolved = normalise(data as ExperimentConfig, source);
  const semantic = [
    ...predictorProblems(resolved),
    ...tokenProblems(resolved, registry),
    ...globalViewProblems(resolved, registry),
    ...scheduleProblems(resolved, registry),
  ];
  if (semantic.length) throw new ConfigError(semantic, source);
  return resolved;
}

/** A predictor predicts the target branch's output: without a target branch it has nothing to predict. */
function predictorProblems(c: ResolvedConfig): ConfigProblem[] {
  return Object.entries(c.tasks)
    .filter(([, t]) => t.predictor && t.target.type === 'none')
    .map(([name]) => ({
      path: `${taskPath(c, name)}/predictor`,
      message: "a predictor runs on the online branch only and predicts the target branch's output, but this task's target is 'none'",
      hint: 'use target "momentum" (BYOL, MoCo v3) or "shared" with stopGradient (SimSiam)',
    }));
}

/**
 * An augmenter that makes `keep` (token indices, MAE's masking) needs an encoder that drops tokens
 * (`dropsTokens`): any other encoder would encode every token and the task would silently train on
 * unmasked input. Augmenters nested in a pipeline count too; plugins not loaded are not judged.
 */
function tokenProblems(c: ResolvedConfig, registry: PluginRegistry): ConfigProblem[] {
  if (!registry.has('encoder', c.encoder.type) || registry.get('encoder', c.encoder.type).dropsTokens) return [];
  const problems: ConfigProblem[] = [];
  for (const [name, t] of Object.entries(c.tasks)) {
    const emitting = refsIn(t.augmenter).find((r) => registry.has('augmenter', r.type) && registry.get('augmenter', r.type).emitsKeep);
    if (!emitting) continue;
    problems.push({
      path: `${taskPath(c, name)}/augmenter`,
      message: `augmenter '${emitting.type}' makes a token mask (keep), but encoder '${c.encoder.type}' cannot drop tokens, so it would encode the masked patches too`,
      hint: `use an encoder that drops tokens (${
        registry
          .namesOf('encoder')
          .filter((n) => registry.get('encoder', n).dropsTokens)
          .join(', ') || 'none is loaded'
      })`,
    });
  }
  return problems;
}

/**
 * A loss that treats the first K views as global crops (`readsGlobalViews`) needs an augmenter that
 * makes at least K of them first (`globalViews`): otherwise local crops stand in for global ones
 * (DINO's teacher would see a 12-pixel crop) and nothing fails. Judged where both declare it.
 */
function globalViewProblems(c: ResolvedConfig, registry: PluginRegistry): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [name, t] of Object.entries(c.tasks)) {
    const aug = t.augmenter as { type: string };
    const loss = t.loss as { type: string };
    const made = registry.has('augmenter', aug.type) ? registry.get('augmenter', aug.type).globalViews?.(aug as never) : undefined;
    const read = registry.has('loss', loss.type) ? registry.get('loss', loss.type).readsGlobalViews?.(loss as never) : undefined;
    if (made === undefined || read === undefined || read <= made) continue;
    problems.push({
      path: `${taskPath(c, name)}/loss`,
      message: `loss '${loss.type}' treats the first ${read} views as global crops, but augmenter '${aug.type}' makes ${made} global crop${made === 1 ? '' : 's'} first: the others are local crops`,
      hint: `read at most ${made} global views, or make ${read} global crops (the augmenter's first kind)`,
    });
  }
  return problems;
}

/** Every plugin reference (`{type}` object) in a config value, the value itself first. */
function refsIn(v: unknown): Array<{ type: string }> {
  if (Array.isArray(v)) return v.flatMap(refsIn);
  if (!v || typeof v !== 'object') return [];
  const own = typeof (v as { type?: unknown }).type === 'string' ? [v as { type: string }] : [];
  return [...own, ...Object.values(v).flatMap(refsIn)];
}

/** Where each task slot's plugin kind is, and the top-level plugin slots, for `schedules` paths. */
const SLOT_KINDS: Record<string, PluginKind> = {
  augmenter: 'augmenter',
  head: 'head',
  predictor: 'head',
  target: 'target',
  negatives: 'negatives',
  loss: 'loss',
};
const TOP_KINDS: Record<string, PluginKind> = { data: 'dataset', encoder: 'encoder', optimizer: 'optimizer', schedule: 'schedule' };

/**
 * Resolve a `schedules` key (`target.momentum`, `tasks.main.loss.temperature`, `optimizer.weightDecay`)
 * to the plugin slot it names and the option: `{ slot: ['tasks', 'main', 'target'], kind, option }`.
 */
export function resolveScheduledPath(c: ResolvedConfig, key: string): { slot: string[]; kind: PluginKind; option: string } | string {
  const segs = key.split('.');
  const option = segs.pop()!;
  if (segs.length === 1 && TOP_KINDS[segs[0]]) return { slot: segs, kind: TOP_KINDS[segs[0]], option };
  const [task, slot] = segs.length === 3 && segs[0] === 'tasks' ? [segs[1], segs[2]] : segs.length === 1 ? ['main', segs[0]] : [undefined, undefined];
  if (!task || !slot || !SLOT_KINDS[slot])
    return `'${key}' names no plugin option: use <slot>.<option> (slots: ${[...Object.keys(TOP_KINDS), ...Object.keys(SLOT_KINDS)].join(', ')}) or tasks.<task>.<slot>.<option>`;
  if (!c.tasks[task]) return `'${key}': there is no task '${task}' (tasks: ${Object.keys(c.tasks).join(', ')})`;
  return { slot: ['tasks', task, slot], kind: SLOT_KINDS[slot], option };
}

function scheduleProblems(c: ResolvedConfig, registry: PluginRegistry): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const key of Object.keys(c.schedules)) {
    const at = `/schedules/${key}`;
    const r = resolveScheduledPath(c, key);
    if (typeof r === 'string') {
      problems.push({ path: at, message: r });
      continue;
    }
    const ref = r.slot.reduce<any>((o, s) => o?.[s], c) as { type: string; [k: string]: unknown } | undefined;
    if (!ref) {
      problems.push({ path: at, message: `the task has no ${r.slot.at(-1)}` });
      continue;
    }
    const def = registry.get(r.kind, ref.type);
    const allowed = (def.schedulable ?? []) as string[];
    if (!allowed.includes(r.option)) {
      problems.push({
        path: at,
        message: `${r.kind} '${ref.type}' does not declare '${r.option}' schedulable`,
        hint: allowed.length ? `schedulable: ${allowed.join(', ')}` : `it has no schedulable option`,
      });
    } else if (typeof ref[r.option] !== 'number') {
      problems.push({ path: at, message: `${r.kind} '${ref.type}' has no numeric '${r.option}' to start from`, hint: `set ${r.slot.join('.')}.${r.option}` });
    }
  }
  return problems;
}

/**
 * Validate one plugin reference against its kind's schema, filling defaults (what `registry.create`
 * does for references that did not come through a validated config). Problems are reported under `path`.
 */
export function validateRef<T>(registry: PluginRegistry, kind: string, ref: T, path: string): T {
  const c = compiled(registry);
  const id = String(c.schema.$id);
  const v = c.ajv.getSchema(`${id}#/$defs/${kind}`);
  if (!v) throw new Error(`no schema for kind ${kind}`);
  const data = structuredClone(ref);
  if (!v(data)) {
    const problems = dedupe((v.errors ?? []).map((e) => describe(e, registry))).map((p) => ({ ...p, path: path + p.path }));
    throw new ConfigError(problems);
  }
  return data;
}

function taskProblems(c: ExperimentConfig): ConfigProblem[] {
  const top = TASK_KEYS.filter((k) => c[k] !== undefined);
  if (c.tasks) {
    const p: ConfigProblem[] = top.map((k) => ({
      path: `/${k}`,
      message: `'${k}' is set both at the top level and in 'tasks'`,
      hint: `move it into a task under /tasks`,
    }));
    if (Object.keys(c.tasks).length === 0) p.push({ path: '/tasks', message: 'no task defined', hint: 'add at least one task, e.g. "main": {...}' });
    for (const [name, t] of Object.entries(c.tasks)) {
      for (const k of ['augmenter', 'loss'] as const) if (!t[k]) p.push({ path: `/tasks/${name}/${k}`, message: `is required` });
    }
    return p;
  }
  return (['augmenter', 'loss'] as const)
    .filter((k) => c[k] === undefined)
    .map((k) => ({ path: `/${k}`, message: 'is required', hint: "define the pretext task's augmenter and loss, or extend a preset" }));
}

function normalise(c: ExperimentConfig, source?: string): ResolvedConfig {
  const fill = (t: Partial<TaskConfig>): TaskConfig => ({
    augmenter: t.augmenter!,
    head: t.head ?? { type: 'identity' },
    predictor: t.predictor,
    target: t.target ?? { type: 'none' },
    negatives: t.negatives ?? { type: 'none' },
    loss: t.loss!,
    weight: t.weight ?? 1,
  });
  const tasks = c.tasks ? Object.fromEntries(Object.entries(c.tasks).map(([k, t]) => [k, fill(t)])) : { main: fill(c as Partial<TaskConfig>) };
  const rest: Record<string, unknown> = { ...c };
  for (const k of [...TASK_KEYS, 'tasks', 'extends']) delete rest[k];
  const name = c.name ?? (source ? source.replace(/^.*[\\/]/, '').replace(/\.json$/, '') : 'experiment');
  return { ...(rest as Omit<ResolvedConfig, 'name' | 'tasks'>), name, tasks };
}

/**
 * An `anyOf` of constants (`Type.Union([Type.Literal(18), Type.Literal(34), ...])`) fails with one
 * error per branch and one for the anyOf: keep the anyOf alone, which `describe` turns into the
 * allowed values.
 */
function withoutConstBranches(errors: ErrorObject[]): ErrorObject[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf' && constsOf(e) !== undefined);
  return errors.filter((e) => !(e.keyword === 'const' && unions.some((u) => u.instancePath === e.instancePath && e.schemaPath.startsWith(u.schemaPath))));
}

/** The constants of an anyOf whose every branch is a `const`, else undefined. */
function constsOf(e: ErrorObject): unknown[] | undefined {
  const branches = (e.parentSchema as { anyOf?: Array<{ const?: unknown }> } | undefined)?.anyOf;
  if (!branches || !branches.every((b) => b && 'const' in b)) return undefined;
  return branches.map((b) => b.const);
}

/** One ajv error as a problem a person reads: its JSON path, a sentence, and a did-you-mean hint where one helps. */
export function describe(e: ErrorObject, registry?: PluginRegistry): ConfigProblem {
  const at = e.instancePath;
  const parent = (e.parentSchema ?? {}) as { properties?: Record<string, unknown>; oneOf?: Array<{ properties?: { type?: { const?: string } } }> };
  switch (e.keyword) {
    case 'discriminator': {
      const kind = /\$defs\/([a-z]+)\//.exec(e.schemaPath)?.[1] ?? 'plugin';
      const names = (parent.oneOf ?? []).map((b) => b.properties?.type?.const).filter((n): n is string => !!n);
      const { tag, tagValue, error } = e.params as { tag: string; tagValue: unknown; error: string };
      if (error === 'tag') return { path: `${at}/${tag}`, message: `missing '${tag}' (which ${kind} plugin)`, hint: `one of: ${names.join(', ')}` };
      const guess = typeof tagValue === 'string' ? closest(tagValue, names) : undefined;
      void registry;
      return {
        path: `${at}/${tag}`,
        message: `unknown ${kind} '${String(tagValue)}'`,
        hint: guess ? `did you mean '${guess}'?` : `known ${kind} plugins: ${names.join(', ')}`,
      };
    }
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys(parent.properties ?? {}).filter((k) => k !== '$schema');
      const guess = closest(key, allowed);
      return {
        path: `${at}/${key}`,
        message: `unknown key '${key}'`,
        hint: guess ? `did you mean '${guess}'?` : `allowed: ${allowed.join(', ')}`,
      };
    }
    case 'required':
      return { path: `${at}/${(e.params as { missingProperty: string }).missingProperty}`, message: 'is required' };
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map(String);
      const guess = typeof e.data === 'string' ? closest(e.data, allowed) : undefined;
      return { path: at, message: `'${String(e.data)}' is not allowed`, hint: `${guess ? `did you mean '${guess}'? ` : ''}allowed: ${allowed.join(', ')}` };
    }
    case 'anyOf': {
      const consts = constsOf(e);
      if (!consts) break;
      const allowed = consts.map((c) => JSON.stringify(c));
      const guess = typeof e.data === 'string' ? closest(e.data, consts.map(String)) : undefined;
      return {
        path: at,
        message: `${JSON.stringify(e.data)} is not allowed`,
        hint: guess ? `did you mean '${guess}'? allowed: ${allowed.join(', ')}` : `allowed: ${allowed.join(', ')}`,
      };
    }
    case 'type':
      return { path: at, message: `${e.message}, got ${JSON.stringify(e.data)}` };
    case EXISTS_KEYWORD:
      return { path: at, message: e.message ?? 'not found', hint: 'check the path (relative paths start at the current directory)' };
  }
  return { path: at, message: `${e.message}${e.data !== undefined && typeof e.data !== 'object' ? `, got ${JSON.stringify(e.data)}` : ''}` };
}

export function dedupe(ps: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return ps.filter((p) => {
    const k = `${p.path}|${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
