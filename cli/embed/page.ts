export interface EmbedPageData {
  title: string;
  /** the UMAP points, one per row of features.npy */
  points: Array<[number, number]>;
  labels: number[];
  /** each point's index in its split */
  indices: number[];
  classNames: string[];
  /** rows of the summary table: name, value */
  table: Array<[string, string]>;
  /** the neighbours picture, relative to the page */
  neighboursImage: string;
  caption: string;
}

// Tableau's 10 colours, then 10 more (the legend repeats them past 20 classes)
const PALETTE = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac',
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
]; // prettier-ignore

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The page's script, plain JavaScript (a string, not a compiled function: nothing a bundler adds can
 * reach the browser): the scatter as SVG, one circle per point, coloured by label, the legend, and
 * the hover label, from the inlined data.
 */
const DRAW = `
const data = JSON.parse(document.getElementById('data').textContent);
const W = 720, H = 540, pad = 16;
const xs = data.points.map((p) => p[0]), ys = data.points.map((p) => p[1]);
const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
const sx = (x) => pad + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * pad);
const sy = (y) => H - pad - ((y - y0) / (y1 - y0 || 1)) * (H - 2 * pad);
const NS = 'http://www.w3.org/2000/svg';
const svg = document.getElementById('scatter');
svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
const tip = document.getElementById('tip');
const colour = (l) => data.palette[l % data.palette.length];
data.points.forEach(([x, y], i) => {
  const c = document.createElementNS(NS, 'circle');
  const l = data.labels[i];
  const text = '#' + data.indices[i] + ': ' + (data.classNames[l] ?? l) + ' (label ' + l + ')';
  c.setAttribute('class', 'pt');
  c.setAttribute('cx', sx(x).toFixed(1));
  c.setAttribute('cy', sy(y).toFixed(1));
  c.setAttribute('r', '3');
  c.setAttribute('fill', colour(l));
  c.setAttribute('data-index', String(data.indices[i]));
  c.setAttribute('data-label', String(l));
  const t = document.createElementNS(NS, 'title');
  t.textContent = text;
  c.appendChild(t);
  c.addEventListener('mouseenter', (e) => {
    tip.textContent = text;
    tip.style.display = 'block';
    tip.style.left = e.pageX + 10 + 'px';
    tip.style.top = e.pageY + 10 + 'px';
  });
  c.addEventListener('mouseleave', () => (tip.style.display = 'none'));
  svg.appendChild(c);
});
const legend = document.getElementById('legend');
data.classNames.forEach((name, l) => {
  const li = document.createElement('li');
  const sw = document.createElement('span');
  sw.className = 'sw';
  sw.style.background = colour(l);
  li.append(sw, l + ' ' + name);
  legend.appendChild(li);
});
`;

/**
 * `index.html`: the UMAP scatter coloured by label with a legend and a hover label, the summary
 * table and the neighbours picture. Self-contained: the data and the script are inline, nothing is
 * fetched but the picture beside it.
 */
export function embedPage(d: EmbedPageData): string {
  // inside <script>, '<' escaped keeps '</script>' in a class name from ending it
  const json = JSON.stringify({ ...d, palette: PALETTE }).replace(/</g, '\\u003c');
  const rows = d.table.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${esc(d.title)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
#plot { display: flex; gap: 16px; align-items: flex-start; }
#scatter { width: 720px; height: 540px; border: 1px solid #ccc; background: #fff; }
#scatter circle { opacity: 0.8; }
#scatter circle:hover { stroke: #000; stroke-width: 1.5; opacity: 1; }
#legend { list-style: none; padding: 0; margin: 0; }
#legend li { margin: 2px 0; }
.sw { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px; border-radius: 6px; }
#tip { position: absolute; display: none; background: #222; color: #fff; padding: 2px 6px; border-radius: 3px; pointer-events: none; }
table { border-collapse: collapse; margin: 16px 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
</style>
</head>
<body>
<h1>${esc(d.title)}</h1>
<div id="plot"><svg id="scatter" xmlns="http://www.w3.org/2000/svg"></svg><ul id="legend"></ul></div>
<div id="tip"></div>
<table>
${rows}
</table>
<h2>Nearest neighbours</h2>
<p>${esc(d.caption)}</p>
<img id="neighbours" src="${esc(d.neighboursImage)}" alt="nearest neighbours">
<script type="application/json" id="data">${json}</script>
<script>${DRAW}</script>
</body>
</html>
`;
}
