import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { loadConfig, listPresets, packageRoot } from '../core/index.js';
import { builtinPresets } from './api.js';

/** The headers a page needs for `crossOriginIsolated` (SharedArrayBuffer, so wasm threads). */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.gz': 'application/gzip',
  '.png': 'image/png',
};

export interface Playground {
  url: string;
  close(): Promise<void>;
}

/** Every shipped preset, `extends` resolved, as the page's picker lists them. */
function presetsJson(): string {
  const presets = builtinPresets();
  return JSON.stringify(listPresets(presets).map((p) => ({ name: p.name, description: p.description, config: loadConfig(p.file, presets).config })));
}

/**
 * `selfsup playground`: serve the page, its training worker, tfjs-backend-wasm's binaries, the
 * embedded data and the presets from this package, on loopback by default, with the isolation
 * headers. It serves files only: all computing happens in the tab. Only the files of those folders
 * are reachable (no `..`, no listing).
 */
export async function startPlayground(opts: { port?: number; host?: string } = {}): Promise<Playground> {
  const root = packageRoot();
  const wasmDir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  const dist = path.join(root, 'dist', 'browser');
  if (!fs.existsSync(path.join(dist, 'worker.js'))) throw new Error(`${dist}/worker.js is missing: build the package first (npm run build)`);
  const routes: Array<[RegExp, (m: RegExpMatchArray) => string]> = [
    [/^\/$/, () => path.join(root, 'browser', 'index.html')],
    [/^\/((?:page|worker)\.js(?:\.map)?)$/, (m) => path.join(dist, m[1])],
    [/^\/tfjs-wasm\/([\w.-]+\.wasm)$/, (m) => path.join(wasmDir, m[1])],
    [/^\/data\/(fashion-mnist|photo-patches)\/([\w.-]+)$/, (m) => path.join(root, 'data', m[1], m[2])],
  ];
  let presets: string | undefined;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: string | Buffer, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-cache' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'only GET');
    if (url.pathname === '/presets.json') return send(200, (presets ??= presetsJson()), TYPES['.json']);
    for (const [re, file] of routes) {
      const m = url.pathname.match(re);
      if (!m || m[0].includes('..')) continue;
      const f = file(m);
      return fs.readFile(f, (err, body) =>
        err ? send(404, `not found: ${url.pathname}`) : send(200, body, TYPES[path.extname(f)] ?? 'application/octet-stream'),
      );
    }
    send(404, `not found: ${url.pathname}`);
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8765, host, () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
