import fs from 'node:fs';
import path from 'node:path';

/**
 * Where a config's `x-exists` path is, and whether it is there (Node: the file system, relative
 * paths from the current directory). The browser build replaces this module with
 * `path-exists.browser.ts`.
 */
export function checkPath(p: string, kind: string): { ok: boolean; where: string } {
  const where = path.resolve(p);
  return { ok: fs.existsSync(where) && (kind === 'dir' ? fs.statSync(where).isDirectory() : true), where };
}
