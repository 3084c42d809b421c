import { canonicalJson } from './hash.js';
import type { TrialRow } from './store.js';

export interface Stat {
  mean: number;
  /** sample standard deviation (n - 1); 0 for a single value */
  std: number;
  n: number;
  values: number[];
}

/** One combination of axis values, over its seeds. */
export interface GroupSummary {
  axes: Record<string, unknown>;
  /** trials planned for this combination (one per seed) */
  trials: number;
  done: number;
  failed: number;
  metrics: Record<string, Stat>;
  /** mean training steps of the finished trials */
  steps: number;
}

export function stat(values: number[]): Stat {
  const n = values.length;
  const mean = n ? values.reduce((a, b) => a + b, 0) / n : NaN;
  const std = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n, values };
}

/** Group trials by their axis values (seeds pooled), in sweep order, with mean and std of each metric. */
export function summarize(trials: TrialRow[], finals: Map<string, Record<string, number>>, metrics: string[]): GroupSummary[] {
  const groups = new Map<string, { axes: Record<string, unknown>; rows: TrialRow[] }>();
  for (const t of [...trials].sort((a, b) => a.idx - b.idx)) {
    const key = canonicalJson(t.axes);
    const g = groups.get(key) ?? { axes: t.axes, rows: [] };
    g.rows.push(t);
    groups.set(key, g);
  }
  return [...groups.values()].map(({ axes, rows }) => {
    const done = rows.filter((r) => r.status === 'done');
    const m: Record<string, Stat> = {};
    for (const name of metrics)
      m[name] = stat(done.map((r) => finals.get(r.hash)?.[name]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v)));
    return {
      axes,
      trials: rows.length,
      done: done.length,
      failed: rows.filter((r) => r.status === 'failed').length,
      metrics: m,
      steps: stat(done.map((r) => r.steps ?? 0)).mean,
    };
  });
}

/** `84.12 ± 0.31` for accuracies (metrics named *top1, shown in percent), 4 decimals otherwise. */
export function formatStat(name: string, s: Stat): string {
  if (s.n === 0) return '-';
  const mean = formatValue(name, s.mean);
  return s.n > 1 ? `${mean} ± ${formatValue(name, s.std)}` : mean;
}

/** One value of a metric: accuracies (named *top1) in percent with 2 decimals, others with 4; '-' when absent. */
export function formatValue(name: string, v: number | undefined): string {
  if (v === undefined) return '-';
  const percent = /top1$|accuracy$/.test(name);
  return (percent ? 100 * v : v).toFixed(percent ? 2 : 4);
}
