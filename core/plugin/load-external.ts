import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { ConfigError, PluginError, SelfsupError } from '../errors.js';
import type { PluginDefinition } from './definition.js';
import type { PluginRegistry } from './registry.js';

/**
 * Load external plugins: ES modules named by the config's `plugins` or by `--plugin`. A module
 * exports its plugins as `default` (one definition or an array) and/or as named exports made with
 * `definePlugin`. Nothing is loaded that the user did not name.
 */
export async function loadExternalPlugins(registry: PluginRegistry, specs: string[], jsonPath = '/plugins', from = process.cwd()): Promise<string[]> {
  const loaded: string[] = [];
  for (const [i, spec] of specs.entries()) {
    const isPath = spec.startsWith('.') || spec.startsWith('/') || /\.[cm]?js$/.test(spec);
    const file = isPath ? path.resolve(spec) : resolvePackage(spec, from, `${jsonPath}/${i}`);
    if (isPath && !fs.existsSync(file)) {
      throw new ConfigError([
        { path: `${jsonPath}/${i}`, message: `plugin module not found: ${file}`, hint: 'paths in a config file are relative to that file' },
      ]);
    }
    let mod: Record<string, unknown>;
    try {
      mod = await import(pathToFileURL(file).href);
    } catch (e) {
      // the module's own code failed on import: its error, with where it was thrown (the stack under --verbose)
      const stack = ((e as Error)?.stack ?? '').replaceAll('file://', '');
      const line = new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+`).exec(stack)?.[0];
      throw new PluginError(`plugin module ${file} threw on import: ${(e as Error)?.message ?? String(e)}${line ? ` (at ${line})` : ''}`, e);
    }
    const defs = collect(mod);
    if (defs.length === 0) {
      throw new SelfsupError(`${file} exports no plugin: export default definePlugin({...}) (or an array of them)`, 2);
    }
    for (const d of defs) {
      registry.register(d, file);
      loaded.push(`${d.kind}/${d.name}`);
    }
  }
  return loaded;
}

/**
 * A plugin named by package name (`selfsup-erasing`), resolved as Node would from `from` (the
 * config file's folder, or the current one): the user's project, not selfsup's own folder.
 */
function resolvePackage(spec: string, from: string, at: string): string {
  try {
    return createRequire(path.join(from, 'noop.js')).resolve(spec);
  } catch {
    throw new ConfigError([
      {
        path: at,
        message: `plugin package '${spec}' is not installed where ${from} can see it`,
        hint: `npm install ${spec} in your project, or name the module by path`,
      },
    ]);
  }
}

function collect(mod: Record<string, unknown>): PluginDefinition[] {
  const out: PluginDefinition[] = [];
  const add = (x: unknown) => {
    if (Array.isArray(x)) x.forEach(add);
    else if (x && typeof x === 'object' && 'kind' in x && 'create' in x && !out.includes(x as PluginDefinition)) out.push(x as PluginDefinition);
  };
  add(mod.default);
  for (const [k, v] of Object.entries(mod)) if (k !== 'default') add(v);
  return out;
}
