import { ConfigError, type ConfigProblem } from '../errors.js';
import { Rng } from '../rng.js';
import type { Distribution, SweepSpec } from './spec.js';

/** One point of a sweep: the value of every axis (config path -> value) and the seed. */
export interface TrialPoint {
  /** position in the expanded order (seed-major: every combination at the first seed comes first) */
  index: number;
  /** config path -> value, for every grid, zip and random axis; variants axis name -> variant name */
  axes: Record<string, unknown>;
  /** the config settings (path -> value) of the trial's variants, applied before its other axes */
  sets: Record<string, unknown>;
  seed: number;
}

/** Round a sampled number to 6 significant digits, so labels read well and hashes are stable across platforms. */
const round6 = (x: number) => Number(x.toPrecision(6));

function sample(d: Distribution, rng: Rng): unknown {
  if ('choice' in d) return d.choice[rng.int(d.choice.length)];
  if ('uniform' in d) return round6(rng.uniform(d.uniform[0], d.uniform[1]));
  if ('logUniform' in d) return round6(Math.exp(rng.uniform(Math.log(d.logUniform[0]), Math.log(d.logUniform[1]))));
  return d.int[0] + rng.int(d.int[1] - d.int[0] + 1);
}

/** Problems with the axes themselves (before any config is built): zip lengths, a path on two axes, empty ranges. */
export function axisProblems(spec: SweepSpec): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, string>();
  const claim = (path: string, where: string) => {
    const before = seen.get(path);
    if (before) problems.push({ path: where, message: `'${path}' is already an axis at ${before}`, hint: 'a config path may vary on one axis only' });
    else seen.set(path, where);
  };
  for (const k of Object.keys(spec.grid)) claim(k, `/grid/${k}`);
  spec.zip.forEach((group, g) => {
    const lengths = Object.values(group).map((v) => v.length);
    if (new Set(lengths).size > 1) {
      problems.push({
        path: `/zip/${g}`,
        message: `the axes of a zip group must have equal lengths, got ${Object.entries(group)
          .map(([k, v]) => `${k}: ${v.length}`)
          .join(', ')}`,
      });
    }
    for (const k of Object.keys(group)) claim(k, `/zip/${g}/${k}`);
  });
  const variantPaths = new Map<string, string>();
  for (const [axis, variants] of Object.entries(spec.variants)) {
    claim(axis, `/variants/${axis}`);
    for (const [name, sets] of Object.entries(variants))
      for (const k of Object.keys(sets)) {
        const other = variantPaths.get(k);
        if (other && other !== axis)
          problems.push({
            path: `/variants/${axis}/${name}/${k}`,
            message: `'${k}' is also set by the variants of '${other}'`,
            hint: 'a config path may vary on one axis only',
          });
        variantPaths.set(k, axis);
      }
  }
  for (const [k, axis] of variantPaths) {
    const at = seen.get(k);
    if (at)
      problems.push({
        path: `/variants/${axis}`,
        message: `its variants set '${k}', which is already an axis at ${at}`,
        hint: 'a config path may vary on one axis only',
      });
  }
  for (const [k, d] of Object.entries(spec.random?.axes ?? {})) {
    claim(k, `/random/axes/${k}`);
    const range = 'uniform' in d ? d.uniform : 'logUniform' in d ? d.logUniform : 'int' in d ? d.int : undefined;
    if (range && !(range[0] <= range[1])) problems.push({ path: `/random/axes/${k}`, message: `empty range [${range[0]}, ${range[1]}]` });
  }
  return problems;
}

/**
 * Every trial of a sweep, in a fixed order: seeds outermost (a partial sweep has every combination at
 * the first seed), then grid axes in the spec's key order, then each zip group, then each variants
 * axis, then the random samples. The count is |seeds| x prod |grid axis| x prod |zip group| x
 * prod |variants axis| x random.n.
 */
export function expandTrials(spec: SweepSpec): TrialPoint[] {
  const problems = axisProblems(spec);
  if (problems.length) throw new ConfigError(problems, 'sweep spec');
  let combos: Array<{ axes: Record<string, unknown>; sets: Record<string, unknown> }> = [{ axes: {}, sets: {} }];
  const product = (options: Array<Record<string, unknown>>, sets: Array<Record<string, unknown>> = []) => {
    combos = combos.flatMap((c) => options.map((o, i) => ({ axes: { ...c.axes, ...o }, sets: { ...c.sets, ...sets[i] } })));
  };
  for (const [path, values] of Object.entries(spec.grid)) product(values.map((v) => ({ [path]: v })));
  for (const group of spec.zip) {
    const n = Object.values(group)[0].length;
    product(Array.from({ length: n }, (_, i) => Object.fromEntries(Object.entries(group).map(([k, v]) => [k, v[i]]))));
  }
  for (const [axis, variants] of Object.entries(spec.variants)) {
    const named = Object.entries(variants);
    product(
      named.map(([name]) => ({ [axis]: name })),
      named.map(([, sets]) => sets),
    );
  }
  if (spec.random) {
    const rng = Rng.fromSeed(spec.random.seed, 'sweep/random');
    const points = Array.from({ length: spec.random.n }, () => Object.fromEntries(Object.entries(spec.random!.axes).map(([k, d]) => [k, sample(d, rng)])));
    product(points);
  }
  const trials: TrialPoint[] = [];
  for (const seed of spec.seeds) for (const { axes, sets } of combos) trials.push({ index: trials.length, axes, sets, seed });
  return trials;
}

/** A short human label of a trial's axes: `head.type=mlp loss.temperature=0.2`. */
export function axesLabel(axes: Record<string, unknown>): string {
  const entries = Object.entries(axes);
  if (entries.length === 0) return '(base)';
  return entries.map(([k, v]) => `${k}=${valueLabel(v)}`).join(' ');
}

/** A value as a short label: strings bare, a plugin reference as `type(k=v,...)`, anything else compact JSON. */
export function valueLabel(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { type?: unknown }).type === 'string') {
    const { type, ...rest } = v as Record<string, unknown>;
    const opts = Object.entries(rest).map(([k, x]) => `${k}=${typeof x === 'string' ? x : JSON.stringify(x)}`);
    return opts.length ? `${type}(${opts.join(',')})` : String(type);
  }
  return JSON.stringify(v);
}
