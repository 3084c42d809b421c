import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The installed selfsup package's directory (holds presets/ and data/), from source or from dist/. */
export function packageRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'selfsup') return (root = dir);
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the selfsup package directory');
    dir = up;
  }
}
