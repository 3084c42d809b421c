/** The browser's twin of `path-exists.ts`: a tab has no file system, so a config that names a path is refused. */
export function checkPath(p: string): { ok: boolean; where: string } {
  return { ok: false, where: `${p} (a browser tab has no files: use an embedded dataset)` };
}
