import fs from 'node:fs';
import path from 'node:path';
import { SelfsupError } from '../../core/index.js';
import { TEMPLATES } from './templates.js';

export interface ScaffoldResult {
  kind: string;
  name: string;
  summary: string;
  /** the plugin module, its test and its config, in that order */
  files: string[];
}

/**
 * Write a plugin of `kind` named `name` into `dir`: `<name>.mjs` (options schema, doc comment,
 * factory), `<name>.test.mjs` (a vitest test of its contract) and `<name>.config.json` (a config
 * that trains with it). Nothing is written if any of the three exists already.
 */
export function scaffoldPlugin(kind: string, name: string, dir: string): ScaffoldResult {
  const template = TEMPLATES[kind];
  if (!template) throw new SelfsupError(`no plugin template for kind '${kind}': templates exist for ${Object.keys(TEMPLATES).join(', ')}`, 2);
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name)) throw new SelfsupError(`plugin name '${name}' must be kebab-case (e.g. my-${kind})`, 2);
  const fill = (s: string) => s.replaceAll('NAME', name);
  const files: Array<[string, string]> = [
    [path.join(dir, `${name}.mjs`), fill(template.plugin)],
    [path.join(dir, `${name}.test.mjs`), fill(template.test)],
    [path.join(dir, `${name}.config.json`), fill(JSON.stringify(template.config, null, 2)) + '\n'],
  ];
  const existing = files.filter(([f]) => fs.existsSync(f)).map(([f]) => f);
  if (existing.length)
    throw new SelfsupError(`${existing.join(', ')} ${existing.length > 1 ? 'exist' : 'exists'}: nothing was written (choose another name or --dir)`, 2);
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, text] of files) fs.writeFileSync(f, text, { flag: 'wx' });
  return { kind, name, summary: template.summary, files: files.map(([f]) => f) };
}
