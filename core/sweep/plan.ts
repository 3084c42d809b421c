import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import type { ResolvedConfig } from '../config/experiment.js';
import { loadConfig, setPath, type PresetSource } from '../config/load.js';
import { closest } from '../config/did-you-mean.js';
import { dedupe, describe, validateConfig } from '../config/validate.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { loadExternalPlugins } from '../plugin/load-external.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { axesLabel, expandTrials, type TrialPoint } from './expand.js';
import { configHash } from './hash.js';
import { SweepSpecSchema, type SweepSpec } from './spec.js';

/** A trial ready to run: its point in the sweep, its full validated config and the config's hash. */
export interface PlannedTrial extends TrialPoint {
  hash: string;
  /** `head.type=mlp seed=1` */
  label: string;
  config: ResolvedConfig;
}

export interface SweepPlan {
  name: string;
  spec: SweepSpec;
  /** the spec file, when it came from one */
  file?: string;
  trials: PlannedTrial[];
}

let specValidator: ReturnType<Ajv['compile']> | undefined;

/** The sweep spec's JSON Schema (what `selfsup schema --sweep` prints). */
export const sweepSchema = () => ({
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'urn:selfsup:schema:sweep',
  title: 'selfsup sweep',
  ...JSON.parse(JSON.stringify(SweepSpecSchema)),
});

/**
 * Read (if a path) and validate a sweep spec, filling its defaults; `metricsNamed` says whether the
 * spec names `metrics` itself (a default narrows to what the trials produce). Throws ConfigError naming every problem.
 */
export function loadSweepSpec(source: string | Record<string, unknown>): { spec: SweepSpec; file?: string; metricsNamed: boolean } {
  let raw: unknown = source;
  let file: string | undefined;
  if (typeof source === 'string') {
    file = path.resolve(source);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError([{ path: '', message: `cannot read sweep spec ${file}: ${(e as Error).message}` }]);
    }
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new ConfigError([{ path: '', message: `not valid JSON: ${(e as Error).message}` }], file);
    }
  }
  specValidator ??= new Ajv({ useDefaults: true, allErrors: true, strict: false, verbose: true }).compile(sweepSchema());
  const spec = structuredClone(raw);
  if (!specValidator(spec)) throw new ConfigError(dedupe((specValidator.errors ?? []).map((e) => describe(e))), file ?? 'sweep spec');
  const metricsNamed = (raw as Record<string, unknown>).metrics !== undefined;
  return { spec: spec as SweepSpec, file, metricsNamed };
}

/** `type` keys first, so a plugin swap never erases an option set beside it; otherwise in the given order. */
const typeFirst = (entries: Array<[string, unknown]>) => [
  ...entries.filter(([k]) => k.endsWith('.type') || k === 'type'),
  ...entries.filter(([k]) => !(k.endsWith('.type') || k === 'type')),
];

/**
 * Expand a sweep and build every trial's config: the base (`extends`, or the trial's value of an
 * `extends` axis or its variant's `extends`: a methods comparison), then `set`, then its variants'
 * settings, then the trial's other axes, then its seed, each validated against the full schema. Nothing runs unless every trial is
 * valid: otherwise one ConfigError lists each problem with the trials it affects and the config path.
 * Two trials that resolve to the same config are an error too (an axis value that changes nothing).
 */
export async function planSweep(
  specSource: string | Record<string, unknown>,
  opts: { registry: PluginRegistry; presets: PresetSource; name?: string },
): Promise<SweepPlan> {
  const { spec, file, metricsNamed } = loadSweepSpec(specSource);
  const name = opts.name ?? spec.name ?? (file ? path.basename(file).replace(/\.json$/, '') : 'sweep');
  // an axis over `extends` compares whole presets (methods): each trial starts from its own base
  const bases = new Map<string, Record<string, unknown>>();
  const points = expandTrials(spec);
  const baseOf = (p: TrialPoint) => {
    const e = p.sets.extends ?? p.axes.extends;
    return typeof e === 'string' ? e : spec.extends;
  };
  for (const ext of new Set([spec.extends, ...points.map(baseOf)])) {
    const base = loadConfig(ext, opts.presets, file ? [file] : []).config;
    bases.set(ext, base);
    const plugins = Array.isArray(base.plugins) ? base.plugins.filter((p): p is string => typeof p === 'string') : [];
    await loadExternalPlugins(opts.registry, plugins);
  }
  // plugin modules are loaded from each base config before any trial: a `plugins` value of the spec's would be ignored
  const setsPlugins = [...Object.keys(spec.set), ...points.flatMap((p) => [...Object.keys(p.axes), ...Object.keys(p.sets)])].find(
    (k) => k === 'plugins' || k.startsWith('plugins.'),
  );
  if (setsPlugins)
    throw new ConfigError(
      [
        {
          path: `/${setsPlugins.replaceAll('.', '/')}`,
          message: `a sweep cannot set '${setsPlugins}': plugin modules are loaded from the base config`,
          hint: 'list them in "plugins" of the config file the sweep extends',
        },
      ],
      file ? `sweep ${file}` : undefined,
    );
  const labels = points.map((p) => `${axesLabel(p.axes)} seed=${p.seed}`);
  const byProblem = new Map<string, { problem: ConfigProblem; trials: number[] }>();
  const duplicates: ConfigProblem[] = [];
  const trials: PlannedTrial[] = [];
  const seenHash = new Map<string, number>();
  for (const point of points) {
    const { extends: _ext, ...axes } = point.axes;
    const { extends: _variantExt, ...variantSets } = point.sets;
    for (const v of Object.keys(spec.variants)) delete axes[v];
    const raw = structuredClone(bases.get(baseOf(point))!);
    for (const [k, v] of typeFirst(Object.entries(spec.set))) setPath(raw, k, v);
    for (const [k, v] of typeFirst(Object.entries(variantSets))) setPath(raw, k, v);
    for (const [k, v] of typeFirst(Object.entries(axes))) setPath(raw, k, v);
    raw.seed = point.seed;
    raw.name = name;
    const label = labels[point.index];
    try {
      const config = validateConfig(raw, opts.registry);
      const hash = configHash(config);
      const twin = seenHash.get(hash);
      if (twin !== undefined) {
        duplicates.push({
          path: '',
          message: `trial ${point.index} [${label}] resolves to the same config as trial ${twin} [${labels[twin]}]`,
          hint: 'an axis value that changes nothing; drop it',
        });
      } else seenHash.set(hash, point.index);
      trials.push({ ...point, hash, label, config });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      for (const p of e.problems) {
        const key = `${p.path}|${p.message}`;
        const entry = byProblem.get(key) ?? { problem: p, trials: [] };
        entry.trials.push(point.index);
        byProblem.set(key, entry);
      }
    }
  }
  if (byProblem.size || duplicates.length) {
    const problems = [...byProblem.values()].map(({ problem, trials: ts }) => {
      const which =
        ts.length === points.length
          ? 'every trial'
          : `trial${ts.length > 1 ? 's' : ''} ${ts
              .slice(0, 8)
              .map((i) => `${i} [${labels[i]}]`)
              .join(', ')}${ts.length > 8 ? `, ... (${ts.length} in all)` : ''}`;
      return { ...problem, path: `${which}: ${problem.path || '/'}` };
    });
    throw new ConfigError([...problems, ...duplicates], `sweep ${name} (nothing was run)`);
  }
  const produced = producedMetrics(trials, opts.registry);
  if (produced && !metricsNamed) {
    // the default (knn_top1, linear_top1) narrows to what these trials produce: a spec that names no
    // metrics is never refused for an evaluator it did not ask for
    const kept = spec.metrics.filter((m) => produced.has(m));
    spec.metrics = kept.length ? kept : ['loss'];
  } else if (produced) {
    const metricProblems = unknownMetrics(spec.metrics, produced);
    if (metricProblems.length) throw new ConfigError(metricProblems, `sweep ${name} (nothing was run)`);
  }
  return { name, spec, file, trials };
}

/**
 * The metrics these trials produce: `loss`, the collapse monitor (`z_std`, `z_std_ref`,
 * `<task>/z_std`), what their final evaluators declare (`metrics` on their definitions) and, with
 * eval.baseline, those prefixed `random_`. Undefined (not judged) where an evaluator declares nothing.
 */
function producedMetrics(trials: PlannedTrial[], registry: PluginRegistry): Set<string> | undefined {
  const produced = new Set(['loss', 'z_std', 'z_std_ref']);
  for (const t of trials) {
    for (const task of Object.keys(t.config.tasks)) produced.add(`${task}/z_std`);
    for (const ev of t.config.eval.final) {
      const declared = registry.has('evaluator', ev.type) ? registry.get('evaluator', ev.type).metrics?.(ev as never) : undefined;
      if (!declared) return undefined;
      for (const m of declared) {
        produced.add(m);
        if (t.config.eval.baseline) produced.add(`random_${m}`);
      }
    }
  }
  return produced;
}

/** The report's metrics that no trial produces (a typo, or an evaluator missing from eval.final). */
function unknownMetrics(metrics: string[], produced: Set<string>): ConfigProblem[] {
  const known = [...produced];
  return metrics
    .map((m, i) => ({ m, i }))
    .filter(({ m }) => !produced.has(m))
    .map(({ m, i }) => {
      const guess = closest(m, known);
      return {
        path: `/metrics/${i}`,
        message: `no trial produces metric '${m}'${guess ? ` (did you mean '${guess}'?)` : ''}`,
        hint: `the trials produce: ${known.join(', ')}; add an evaluator to eval.final for another`,
      };
    });
}
