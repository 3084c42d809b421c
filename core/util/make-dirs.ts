import fs from 'node:fs';
import path from 'node:path';

/**
 * `fs.mkdirSync(dir, { recursive: true })` that throws the real reason: Node's recursive mkdir
 * reports a read-only file system (EROFS) or a denied permission (EACCES) as ENOENT, so the first
 * missing folder is made on its own to get the error that says why.
 */
export function makeDirs(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    let missing = path.resolve(dir);
    while (!fs.existsSync(path.dirname(missing))) missing = path.dirname(missing);
    fs.mkdirSync(missing);
    throw e;
  }
}
