import path from 'node:path';
import { writeAtomic } from '../train/checkpoint.js';
import { markdownTable } from '../util/text.js';
import { valueLabel } from './expand.js';
import { SweepStore, type TrialRow } from './store.js';
import { formatStat, formatValue, summarize, type GroupSummary } from './summary.js';

export interface SweepReport {
  name: string;
  metrics: string[];
  axes: string[];
  groups: GroupSummary[];
  trials: TrialRow[];
  markdown: string;
  html: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The summary table: one row per axis combination, mean ± std over seeds of each metric. */
function tableRows(groups: GroupSummary[], axes: string[], metrics: string[]): { header: string[]; rows: string[][] } {
  const header = [...(axes.length ? axes : ['trial']), 'seeds', 'steps', ...metrics];
  const rows = groups.map((g) => [
    ...(axes.length ? axes.map((a) => valueLabel(g.axes[a])) : ['(base)']),
    `${g.done}/${g.trials}${g.failed ? ` (${g.failed} failed)` : ''}`,
    Number.isFinite(g.steps) ? String(Math.round(g.steps)) : '-',
    ...metrics.map((m) => formatStat(m, g.metrics[m])),
  ]);
  return { header, rows };
}

/** A Vega-Lite spec rendered to an SVG string in Node (no browser, no network). */
async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const compiled = vl.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

const isNumeric = (vals: unknown[]) => vals.every((v) => typeof v === 'number');

/**
 * Metric against one axis: each seed's value as a dot, the mean ± std as a bar and line, one colour
 * per metric; other axes, if any, split the chart into columns.
 */
function axisChart(axis: string, axes: string[], groups: GroupSummary[], metrics: string[]): Record<string, unknown> {
  const others = axes.filter((a) => a !== axis);
  const values = groups.map((g) => g.axes[axis]);
  const numeric = isNumeric(values);
  const order = [...new Set(values.map(valueLabel))];
  if (numeric) order.sort((a, b) => Number(a) - Number(b));
  const rows = groups.flatMap((g) =>
    metrics.flatMap((m) =>
      g.metrics[m].values.map((v) => ({
        x: valueLabel(g.axes[axis]),
        metric: m,
        value: v * (/top1$/.test(m) ? 100 : 1),
        other: others.map((o) => `${o}=${valueLabel(g.axes[o])}`).join(' ') || 'all',
      })),
    ),
  );
  const long = order.some((o) => o.length > 12);
  const x = { field: 'x', type: 'ordinal', sort: order, title: axis, axis: { labelAngle: long ? -20 : 0, labelLimit: 220 } };
  const y = { field: 'value', type: 'quantitative', scale: { zero: false }, title: metrics.every((m) => /top1$/.test(m)) ? 'top-1 (%)' : 'value' };
  const color = { field: 'metric', type: 'nominal', sort: metrics, title: 'metric' };
  const layer = [
    { mark: { type: 'point', filled: true, opacity: 0.45, size: 40 }, encoding: { x, y, color } },
    { mark: { type: 'errorbar', extent: 'stdev', thickness: 2 }, encoding: { x, y, color } },
    { mark: { type: 'line', point: { size: 60 } }, encoding: { x, y: { ...y, aggregate: 'mean' }, color } },
  ];
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: `${metrics.join(', ')} against ${axis}`, data: { values: rows } };
  if (others.length === 0) return { ...base, width: Math.max(260, (long ? 130 : 90) * order.length), height: 260, layer };
  return {
    ...base,
    facet: { column: { field: 'other', type: 'nominal', title: others.join(', ') } },
    spec: { width: Math.max(200, 70 * order.length), height: 220, layer },
  };
}

/** Loss (and any per-epoch monitor metric) against epoch, the mean over seeds per axis combination. */
function curveChart(name: string, trials: TrialRow[], epochs: Map<string, Array<Record<string, number>>>, axes: string[]): Record<string, unknown> | undefined {
  const labelOf = (t: TrialRow) => axes.map((a) => `${a}=${valueLabel(t.axes[a])}`).join(' ') || 'base';
  const rows = trials
    .filter((t) => t.status === 'done')
    .flatMap((t) =>
      (epochs.get(t.hash) ?? []).filter((r) => typeof r[name] === 'number').map((r) => ({ epoch: r.epoch, value: r[name], run: labelOf(t), seed: t.seed })),
    );
  if (rows.length === 0) return undefined;
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } };
  const y = { field: 'value', type: 'quantitative', aggregate: 'mean', scale: { zero: false }, title: name };
  const color = { field: 'run', type: 'nominal', title: 'trial', legend: { labelLimit: 320 } };
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', data: { values: rows } };
  if (!differentScales(rows)) {
    return { ...base, title: `${name} per epoch (mean over seeds)`, width: 420, height: 240, mark: { type: 'line', point: true }, encoding: { x, y, color } };
  }
  // losses of different methods live on different scales (NT-Xent ~5, Barlow Twins ~100, SimSiam in [-1, 1]):
  // one small panel per trial, each with its own y-axis, so no curve is flattened by another
  return {
    ...base,
    title: `${name} per epoch (mean over seeds; each trial on its own scale)`,
    facet: { field: 'run', type: 'nominal', title: null, header: { labelLimit: 260, labelFontSize: 11 } },
    columns: 4,
    spec: {
      width: 190,
      height: 110,
      mark: { type: 'line', point: { size: 12 } },
      encoding: { x, y: { ...y, title: null }, color: { ...color, legend: null } },
    },
    resolve: { scale: { y: 'independent' } },
  };
}

/** true when the trials' values are on scales too different to share one axis (a factor of 3 in range, or signs that differ). */
function differentScales(rows: Array<{ run: string; value: number }>): boolean {
  const byRun = new Map<string, number[]>();
  for (const r of rows) byRun.set(r.run, [...(byRun.get(r.run) ?? []), r.value]);
  if (byRun.size < 2) return false;
  const spans = [...byRun.values()].map((v) => ({ lo: Math.min(...v), hi: Math.max(...v) }));
  const mags = spans.map((s) => Math.max(Math.abs(s.lo), Math.abs(s.hi), 1e-12));
  const mixedSigns = spans.some((s) => s.hi < 0) && spans.some((s) => s.lo > 0);
  return mixedSigns || Math.max(...mags) / Math.min(...mags) > 3;
}

/** The collapse monitor relative to its value for z spread evenly over the sphere (1). */
export const Z_REL = 'z_std / z_std_ref';

/**
 * The std of the L2-normalised z over a batch (`z_std`) is 1/sqrt(D) for z spread evenly over the
 * sphere, so trials whose heads output different sizes D (a methods comparison: SimCLR's 128,
 * Barlow Twins' 2048) cannot share an axis in it; their ratio to that reference can. When every
 * finished trial that reported z_std also has `z_std_ref` in its final metrics (the trainer writes
 * it), adds `z_std / z_std_ref` to those final metrics and epoch records, in place, and returns
 * true; otherwise changes nothing and returns false (the charts then draw the raw value).
 */
export function addRelativeSpread(
  trials: TrialRow[],
  finals: Map<string, Record<string, number>>,
  epochs: Map<string, Array<Record<string, number>>>,
): boolean {
  const reporting = trials.filter(
    (t) => t.status === 'done' && (finals.get(t.hash)?.z_std !== undefined || (epochs.get(t.hash) ?? []).some((r) => r.z_std !== undefined)),
  );
  const refOf = (t: TrialRow) => finals.get(t.hash)?.z_std_ref;
  if (reporting.length === 0 || !reporting.every((t) => (refOf(t) ?? 0) > 0)) return false;
  for (const t of reporting) {
    const ref = refOf(t)!;
    const f = finals.get(t.hash);
    if (typeof f?.z_std === 'number') f[Z_REL] = f.z_std / ref;
    for (const r of epochs.get(t.hash) ?? []) if (typeof r.z_std === 'number') r[Z_REL] = r.z_std / ref;
  }
  return true;
}

/** Build the report of a sweep directory from its store: Markdown table and a self-contained HTML page. */
export async function buildReport(dir: string): Promise<SweepReport> {
  const store = new SweepStore(dir);
  try {
    const meta = store.meta() as { name?: string; metrics?: string[]; axes?: string[]; hashes?: string[]; spec?: { description?: string } };
    const all = store.trials();
    const current = meta.hashes ? new Set(meta.hashes) : undefined;
    const trials = current ? all.filter((t) => current.has(t.hash)) : all;
    const metrics = meta.metrics ?? ['knn_top1', 'linear_top1'];
    const axes = meta.axes ?? [...new Set(trials.flatMap((t) => Object.keys(t.axes)))];
    const finals = store.finalMetrics();
    const epochs = store.epochMetrics();
    const groups = summarize(trials, finals, metrics);
    const name = meta.name ?? path.basename(dir);
    const { header, rows } = tableRows(groups, axes, metrics);
    const counts = (s: string) => trials.filter((t) => t.status === s).length;
    const status = `${trials.length} trials: ${counts('done')} done, ${counts('failed')} failed, ${counts('running')} running, ${counts('pending')} pending`;
    const markdown = `## Sweep ${name}\n\n${status}. Mean ± std over seeds; accuracies in %.\n\n${markdownTable(header, rows)}\n`;

    const charts: Array<{ title: string; svg: string }> = [];
    // z_std is drawn as its ratio to 1/sqrt(D) where every finished trial knows its reference
    const relative = addRelativeSpread(trials, finals, epochs);
    const drawn = (m: string) => (m === 'z_std' && relative ? Z_REL : m);
    const chartMetrics = metrics.map(drawn);
    const chartGroups = relative ? summarize(trials, finals, chartMetrics) : groups;
    // accuracies share a chart (%); any other metric (z_std, a loss term) gets its own y-axis
    const metricGroups = [chartMetrics.filter((m) => /top1$/.test(m)), ...chartMetrics.filter((m) => !/top1$/.test(m)).map((m) => [m])].filter(
      (g) => g.length > 0,
    );
    for (const axis of axes)
      for (const ms of metricGroups) charts.push({ title: `${ms.join(', ')} against ${axis}`, svg: await renderSvg(axisChart(axis, axes, chartGroups, ms)) });
    const monitorNames = [...new Set([...epochs.values()].flatMap((list) => list.flatMap((r) => Object.keys(r).map(drawn))))].filter(
      (k) => k !== 'epoch' && k !== 'step',
    );
    for (const m of ['loss', ...monitorNames.filter((k) => k !== 'loss')]) {
      const spec = curveChart(m, trials, epochs, axes);
      if (spec) charts.push({ title: `${m} per epoch`, svg: await renderSvg(spec) });
    }
    const failed = trials.filter((t) => t.status === 'failed');
    const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>selfsup sweep ${esc(name)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
.scroll { overflow-x: auto; } table { border-collapse: collapse; margin: 1em 0; } th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th { background: #f3f3f3; } #summary td:first-child, #trials td:nth-child(2) { text-align: left; }
figure { display: inline-block; margin: 0 1.5em 1.5em 0; vertical-align: top; } figcaption { font-weight: 600; }
.failed { color: #a00; } code { font-size: 12px; }
</style></head><body>
<h1>Sweep <code>${esc(name)}</code></h1>
${meta.spec?.description ? `<p>${esc(meta.spec.description)}</p>` : ''}
<p id="status">${esc(status)}. Mean ± std over seeds; accuracies in %.</p>
<div class="scroll"><table id="summary"><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>
<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n')}</tbody></table></div>
<h2>Plots</h2>
${charts.map((c) => `<figure class="chart"><figcaption>${esc(c.title)}</figcaption>${c.svg}</figure>`).join('\n')}
${failed.length ? `<h2 class="failed">Failed trials</h2><ul>${failed.map((t) => `<li class="failed"><code>${esc(t.label)}</code>: ${esc(t.error ?? '')}</li>`).join('')}</ul>` : ''}
<h2>Trials</h2>
<div class="scroll"><table id="trials"><thead><tr><th>#</th><th>trial</th><th>status</th><th>steps</th><th>seconds</th><th>backend</th><th>hash</th>${metrics.map((m) => `<th>${esc(m)}</th>`).join('')}</tr></thead><tbody>
${trials.map((t) => `<tr><td>${t.idx}</td><td>${esc(t.label)}</td><td>${t.status}</td><td>${t.steps ?? '-'}</td><td>${t.seconds?.toFixed(1) ?? '-'}</td><td>${t.backend ?? '-'}</td><td><code>${t.hash}</code></td>${metrics.map((m) => `<td>${formatValue(m, finals.get(t.hash)?.[m])}</td>`).join('')}</tr>`).join('\n')}
</tbody></table></div>
<p>Generated by selfsup from <code>${esc(path.join(dir, 'sweep.db'))}</code>, ${new Date().toISOString()}.</p>
</body></html>
`;
    return { name, metrics, axes, groups, trials, markdown, html };
  } finally {
    store.close();
  }
}

/** Build the report and write `report.md` and `report.html` into the sweep directory. */
export async function writeReport(dir: string): Promise<SweepReport & { files: string[] }> {
  const r = await buildReport(dir);
  const files = [path.join(dir, 'report.md'), path.join(dir, 'report.html')];
  writeAtomic(files[0], r.markdown);
  writeAtomic(files[1], r.html);
  return { ...r, files };
}
