import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../core/index.js';

let version: string | undefined;

/** selfsup's version, from its package.json. */
export function selfsupVersion(): string {
  version ??= (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
