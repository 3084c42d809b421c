/** A Markdown table: header row, separator, rows (cells converted with String; `|` escaped). */
export function markdownTable(header: string[], rows: Array<Array<string | number>>): string {
  const line = (r: Array<string | number>) => `| ${r.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Median of numbers (NaN for none). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
}

/** A fraction as a percentage with two decimals (`0.7112` -> `71.12%`); `-` for none. */
export function pct(v: number | undefined): string {
  return v === undefined ? '-' : `${(100 * v).toFixed(2)}%`;
}

/** Seconds left as a short ETA: `42s`, `3m07s`, `1.6h`. */
export function etaText(s: number): string {
  return s >= 3600 ? `${(s / 3600).toFixed(1)}h` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}
