/** A plain text table: header row, then rows; columns padded to their widest cell. */
export function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

export const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

/** Metrics as a two-column table (accuracies as percentages). */
export function metricsTable(m: Record<string, number>): string {
  return table(
    ['metric', 'value'],
    Object.entries(m).map(([k, v]) => [k, k.endsWith('top1') ? pct(v) : v.toFixed(4)]),
  );
}
