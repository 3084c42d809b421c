import { pct } from '../api.js';

/** A plain text table: header row, then rows; columns padded to their widest cell. */
export function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

/** Metrics as a table (accuracies as percentages); `random_<k>` baselines go in their own column. */
export function metricsTable(m: Record<string, number>): string {
  const show = (k: string, v: number | undefined) =>
    v === undefined
      ? '-'
      : k.endsWith('top1')
        ? pct(v)
        : k === 'z_std' && m.z_std_ref
          ? `${v.toFixed(4)} (1/sqrt(D) = ${m.z_std_ref.toFixed(4)}; 0 = collapsed)`
          : v.toFixed(4);
  const keys = Object.keys(m).filter((k) => !k.startsWith('random_') && k !== 'z_std_ref');
  const withBaseline = keys.some((k) => `random_${k}` in m);
  if (!withBaseline)
    return table(
      ['metric', 'value'],
      keys.map((k) => [k, show(k, m[k])]),
    );
  return table(
    ['metric', 'trained', 'random weights'],
    keys.map((k) => [k, show(k, m[k]), show(k, m[`random_${k}`])]),
  );
}
