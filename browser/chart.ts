/** A line chart on a canvas: series of [x, y] points, a dashed horizontal reference line, axes with their ranges. */
export interface Series {
  points: Array<[number, number]>;
  color: string;
  label: string;
}

export function drawChart(
  canvas: HTMLCanvasElement,
  series: Series[],
  opts: { reference?: { y: number; label: string }; yLabel: (y: number) => string },
): void {
  const g = canvas.getContext('2d')!;
  const { width: w, height: h } = canvas;
  const pad = { l: 56, r: 12, t: 12, b: 28 };
  g.clearRect(0, 0, w, h);
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = [...series.flatMap((s) => s.points.map((p) => p[1])), ...(opts.reference ? [opts.reference.y] : [])].filter(Number.isFinite);
  if (!ys.length) return;
  const [x0, x1] = [Math.min(0, ...xs), Math.max(1, ...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const margin = (y1 - y0) * 0.08;
  [y0, y1] = [y0 - margin, y1 + margin];
  const px = (x: number) => pad.l + ((x - x0) / (x1 - x0)) * (w - pad.l - pad.r);
  const py = (y: number) => h - pad.b - ((y - y0) / (y1 - y0)) * (h - pad.t - pad.b);
  g.strokeStyle = '#999';
  g.fillStyle = '#444';
  g.font = '12px sans-serif';
  g.beginPath();
  g.moveTo(pad.l, pad.t);
  g.lineTo(pad.l, h - pad.b);
  g.lineTo(w - pad.r, h - pad.b);
  g.stroke();
  for (const y of [y0 + margin, (y0 + y1) / 2, y1 - margin]) g.fillText(opts.yLabel(y), 4, py(y) + 4);
  g.fillText(String(x0), pad.l, h - 8);
  g.fillText(String(x1), w - pad.r - 24, h - 8);
  if (opts.reference) {
    g.setLineDash([6, 4]);
    g.strokeStyle = '#888';
    g.beginPath();
    g.moveTo(pad.l, py(opts.reference.y));
    g.lineTo(w - pad.r, py(opts.reference.y));
    g.stroke();
    g.setLineDash([]);
    g.fillText(opts.reference.label, pad.l + 6, py(opts.reference.y) - 6);
  }
  for (const s of series) {
    g.strokeStyle = s.color;
    g.fillStyle = s.color;
    g.lineWidth = 2;
    g.beginPath();
    s.points.forEach(([x, y], i) => (i ? g.lineTo(px(x), py(y)) : g.moveTo(px(x), py(y))));
    g.stroke();
    if (s.points.length < 30) for (const [x, y] of s.points) g.fillRect(px(x) - 3, py(y) - 3, 6, 6);
    g.lineWidth = 1;
  }
}

/** Ten colours that stay apart (Tableau 10), for classes. */
export const CLASS_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** A scatter of 2-D points coloured by label, with a legend of the class names. */
export function drawScatter(canvas: HTMLCanvasElement, points: Array<[number, number]>, labels: number[], classNames: string[] = []): void {
  const g = canvas.getContext('2d')!;
  const { width: w, height: h } = canvas;
  g.clearRect(0, 0, w, h);
  if (!points.length) return;
  const legend = 150;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const px = (x: number) => 8 + ((x - x0) / (x1 - x0 || 1)) * (w - legend - 16);
  const py = (y: number) => 8 + ((y - y0) / (y1 - y0 || 1)) * (h - 16);
  points.forEach(([x, y], i) => {
    g.fillStyle = CLASS_COLOURS[labels[i] % CLASS_COLOURS.length];
    g.beginPath();
    g.arc(px(x), py(y), 2.5, 0, 2 * Math.PI);
    g.fill();
  });
  g.font = '12px sans-serif';
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  classes.forEach((c, i) => {
    g.fillStyle = CLASS_COLOURS[c % CLASS_COLOURS.length];
    g.fillRect(w - legend + 4, 10 + i * 18, 10, 10);
    g.fillStyle = '#333';
    g.fillText(classNames[c] ?? String(c), w - legend + 20, 19 + i * 18);
  });
}
