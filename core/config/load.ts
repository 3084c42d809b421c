import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { closest } from './did-you-mean.js';
import { TASK_KEYS } from './experiment.js';

type Json = Record<string, unknown>;

/** Where `extends: "<name>"` and `--preset <name>` look for `<name>.json`. */
export interface PresetSource {
  dirs: string[];
}

const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

/** 1-based line and column of a character offset. */
function lineColumn(text: string, pos: number): { line: number; column: number } {
  const before = text.slice(0, pos).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/** Keys that would reach an object's prototype when assigned: never a config key or path segment. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The JSON path of the first forbidden key in `value`, if any. */
function forbiddenKeyPath(value: unknown, at = ''): string | undefined {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const p = forbiddenKeyPath(v, `${at}/${i}`);
      if (p) return p;
    }
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (FORBIDDEN_KEYS.has(k)) return `${at}/${k}`;
      const p = forbiddenKeyPath(v, `${at}/${k}`);
      if (p) return p;
    }
  }
  return undefined;
}

/** Refuse `__proto__`, `constructor` and `prototype` as keys anywhere in `value` (a config file, a --set value, a sweep axis). */
export function assertNoForbiddenKeys(value: unknown, source?: string): void {
  const at = forbiddenKeyPath(value);
  if (at)
    throw new ConfigError(
      [{ path: at, message: `'${at.split('/').pop()}' is not allowed as a key`, hint: 'it would change the prototype of every object, not the config' }],
      source,
    );
}

/**
 * Merge `over` onto `base`: objects merge key by key, arrays and scalars replace. A plugin reference
 * whose `type` changes is replaced whole (the old plugin's options do not leak into the new one).
 */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return structuredClone(over);
  if (typeof base.type === 'string' && typeof over.type === 'string' && base.type !== over.type) return structuredClone(over);
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeConfig(base[k], v) : structuredClone(v);
  return out;
}

/** A preset name or a path -> the JSON file it names. */
export function locateConfig(nameOrPath: string, presets: PresetSource, relativeTo = process.cwd()): string {
  const asPath = path.resolve(relativeTo, nameOrPath);
  if (fs.existsSync(asPath) && fs.statSync(asPath).isFile()) return asPath;
  if (fs.existsSync(asPath) && fs.statSync(asPath).isDirectory() && !/^[a-z0-9-]+$/.test(nameOrPath)) {
    const jsons = fs.readdirSync(asPath).filter((f) => f.endsWith('.json'));
    throw new ConfigError([
      {
        path: '',
        message: `${asPath} is a directory, not a config file`,
        hint: jsons.length ? `name one of its files: ${jsons.slice(0, 5).join(', ')}` : 'name a .json config file',
      },
    ]);
  }
  for (const d of presets.dirs) {
    const p = path.join(d, `${nameOrPath}.json`);
    if (fs.existsSync(p)) return p;
  }
  const known = listPresets(presets).map((p) => p.name);
  const guess = closest(nameOrPath, known);
  throw new ConfigError([
    { path: '', message: `no preset or file named '${nameOrPath}'`, hint: `${guess ? `did you mean '${guess}'? ` : ''}presets: ${known.join(', ')}` },
  ]);
}

export function listPresets(presets: PresetSource): Array<{ name: string; file: string; description: string }> {
  const out: Array<{ name: string; file: string; description: string }> = [];
  for (const d of presets.dirs) {
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d).sort()) {
      if (!f.endsWith('.json')) continue;
      const file = path.join(d, f);
      let description = '';
      try {
        description = String((JSON.parse(fs.readFileSync(file, 'utf8')) as Json).description ?? '');
      } catch {
        description = '(unreadable)';
      }
      out.push({ name: f.replace(/\.json$/, ''), file, description });
    }
  }
  return out;
}

function readJson(file: string): Json {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ path: '', message: `cannot read ${file}: ${(e as Error).message}` }]);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte-order mark, as some editors write
  try {
    const j = JSON.parse(text);
    if (!isObject(j)) throw new Error('the top level must be an object');
    assertNoForbiddenKeys(j, file);
    return j;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const msg = (e as Error).message;
    const pos = Number(/position (\d+)/.exec(msg)?.[1]);
    const at = Number.isFinite(pos) ? lineColumn(text, pos) : undefined;
    const hint = /^\s*\/\/|\/\*/m.test(text) ? 'JSON has no comments: remove the // and /* */ lines (put notes in "notes" or "description")' : undefined;
    throw new ConfigError([{ path: '', message: `not valid JSON${at ? ` at line ${at.line}, column ${at.column}` : ''}: ${msg}`, hint }], file);
  }
}

/**
 * Load a config (preset name, file, or object) with its `extends` chain merged in. Plugin module
 * paths are made absolute relative to the file that names them.
 */
export function loadConfig(source: string | Json, presets: PresetSource, seen: string[] = []): { config: Json; file?: string } {
  let file: string | undefined;
  let json: Json;
  if (typeof source === 'string') {
    file = locateConfig(source, presets, seen.length ? path.dirname(seen[seen.length - 1]) : process.cwd());
    if (seen.includes(file)) throw new ConfigError([{ path: '/extends', message: `extends cycle: ${[...seen, file].join(' -> ')}` }]);
    json = readJson(file);
  } else {
    assertNoForbiddenKeys(source);
    json = structuredClone(source);
  }
  if (file && Array.isArray(json.plugins)) {
    json.plugins = json.plugins.map((p) => (typeof p === 'string' && p.startsWith('.') ? path.resolve(path.dirname(file!), p) : p));
  }
  const parentRef = json.extends;
  delete json.extends;
  if (parentRef === undefined) return { config: json, file };
  if (typeof parentRef !== 'string') throw new ConfigError([{ path: '/extends', message: 'must be a preset name or a path' }], file);
  const parent = loadConfig(parentRef, presets, file ? [...seen, file] : seen);
  const parentPlugins = (parent.config.plugins as unknown[]) ?? [];
  // a child with `tasks` over a single-task parent: the parent's task becomes `tasks.main`
  const base = json.tasks !== undefined ? toTaskForm(parent.config) : parent.config;
  const merged = mergeConfig(base, json) as Json;
  if (Array.isArray(json.plugins)) merged.plugins = [...new Set([...parentPlugins, ...json.plugins])];
  return { config: merged, file };
}

/** Move a single-task config's task keys into `tasks.main`. */
function toTaskForm(cfg: Json): Json {
  const present = TASK_KEYS.filter((k) => k in cfg) as string[];
  if (present.length === 0) return cfg;
  const out: Json = { ...cfg };
  const main: Json = {};
  for (const k of present) {
    main[k] = out[k];
    delete out[k];
  }
  out.tasks = { ...((out.tasks as Json) ?? {}), main };
  return out;
}

/** Parse `a.b.0.c` into segments (numbers index arrays). */
const segments = (p: string) => p.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));

type Schema = Record<string, any>;

/** The schema that applies at `segs` of `data`, following $ref, allOf and the `type` discriminator. */
export function schemaAt(root: Schema, data: unknown, segs: Array<string | number>): Schema | undefined {
  const deref = (s: Schema | undefined): Schema | undefined => {
    while (s && s.$ref) s = root.$defs?.[String(s.$ref).replace('#/$defs/', '')];
    if (s && s.allOf && s.allOf.length === 1) return deref(s.allOf[0]);
    return s;
  };
  let s = deref(root);
  let d: any = data;
  for (const seg of segs) {
    if (!s) return undefined;
    if (s.oneOf && s.discriminator && isObject(d)) s = deref(s.oneOf.find((b: Schema) => b.properties?.type?.const === d.type));
    if (!s) return undefined;
    if (typeof seg === 'number') s = deref(s.items);
    else
      s = deref(
        s.properties?.[seg] ??
          (typeof s.additionalProperties === 'object' ? s.additionalProperties : s.patternProperties ? Object.values(s.patternProperties)[0] : undefined),
      );
    d = d?.[seg];
  }
  return s;
}

/**
 * Apply `--set a.b=v` overrides, typed by the schema at that path: numbers and booleans are parsed
 * and checked, arrays and objects are JSON, strings are taken as they are. Setting a plugin's `type`
 * to another plugin replaces that reference (`--set head.type=linear` drops the MLP's options);
 * options given by earlier `--set`s of the same command are then set again on the new plugin, in
 * order (`--set encoder.depth=34 --set encoder.type=resnet` is a ResNet-34, and a depth the new
 * plugin does not take is an error, not silently dropped).
 */
export function applyOverrides(config: Json, sets: string[], schema: Schema): Json {
  const out = structuredClone(config);
  const problems: ConfigProblem[] = [];
  const applied: Array<{ segs: Array<string | number>; raw: string; key: string }> = [];
  const apply = (segs: Array<string | number>, raw: string, key: string, jsonPath: string) => {
    const sub = schemaAt(schema, out, segs);
    const parsed = parseTyped(raw, sub);
    if (parsed.error) {
      problems.push({ path: jsonPath, message: `--set ${key}: ${parsed.error}` });
      return;
    }
    const parent = segs.slice(0, -1);
    const typeBefore = segs[segs.length - 1] === 'type' ? (getPath(out, parent) as { type?: unknown } | undefined)?.type : undefined;
    setPath(out, segs, parsed.value);
    if (typeof typeBefore === 'string' && typeBefore !== parsed.value) {
      // the plugin changed: its options from earlier --sets go onto the new one
      for (const a of applied)
        if (a.segs.length > parent.length && parent.every((p, i) => a.segs[i] === p) && a.segs[parent.length] !== 'type') {
          const sub2 = schemaAt(schema, out, a.segs);
          const again = parseTyped(a.raw, sub2);
          if (again.error) problems.push({ path: '/' + a.segs.join('/'), message: `--set ${a.key}: ${again.error}` });
          else setPath(out, a.segs, again.value);
        }
    }
    applied.push({ segs, raw, key });
  };
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) {
      problems.push({ path: '', message: `--set '${s}' is not key=value`, hint: 'e.g. --set loss.temperature=0.2' });
      continue;
    }
    const key = s.slice(0, eq);
    const raw = s.slice(eq + 1);
    const segs = segments(key);
    const jsonPath = '/' + segs.join('/');
    if (segs[0] === 'extends' || segs[0] === 'plugins') {
      const hint =
        segs[0] === 'plugins'
          ? 'load plugins with --plugin MODULE, or list them in a config file'
          : 'write a config file with "extends" and pass it as --preset FILE';
      problems.push({ path: jsonPath, message: `--set cannot change '${segs[0]}': it is read before any --set applies`, hint });
      continue;
    }
    apply(segs, raw, key, jsonPath);
  }
  if (problems.length) throw new ConfigError(problems);
  return out;
}

/** The value at a path, or undefined. */
function getPath(config: Json, segs: Array<string | number>): unknown {
  let obj: unknown = config;
  for (const seg of segs) {
    if (obj === null || typeof obj !== 'object') return undefined;
    obj = (obj as Record<string | number, unknown>)[seg];
  }
  return obj;
}

/**
 * Set the value at a dotted path (`head.type`, `eval.final.0.k`) in place, creating objects on the
 * way. Setting a plugin's `type` to another plugin replaces that reference (its old options go), as
 * `--set` does; a whole value (an object) replaces what was there.
 */
export function setPath(config: Json, path: string | Array<string | number>, value: unknown): void {
  const segs = typeof path === 'string' ? segments(path) : path;
  const bad = segs.find((s) => typeof s === 'string' && FORBIDDEN_KEYS.has(s));
  if (bad !== undefined)
    throw new ConfigError([
      {
        path: '/' + segs.join('/'),
        message: `'${bad}' is not allowed in a config path`,
        hint: 'it would change the prototype of every object, not the config',
      },
    ]);
  assertNoForbiddenKeys(value);
  let obj: any = config;
  for (const seg of segs.slice(0, -1)) {
    if (obj[seg] === undefined || typeof obj[seg] !== 'object' || obj[seg] === null) obj[seg] = typeof seg === 'number' ? [] : {};
    obj = obj[seg];
  }
  const last = segs[segs.length - 1];
  if (last === 'type' && typeof obj.type === 'string' && obj.type !== value) {
    for (const k of Object.keys(obj)) delete obj[k];
  }
  obj[last] = structuredClone(value);
}

function parseTyped(raw: string, s: Schema | undefined): { value?: unknown; error?: string } {
  const t = s?.type ?? (s?.const !== undefined ? typeof s.const : undefined);
  if (t === 'number' || t === 'integer') {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v)) return { error: `expected a number, got '${raw}'` };
    if (t === 'integer' && !Number.isInteger(v)) return { error: `expected an integer, got '${raw}'` };
    return { value: v };
  }
  if (t === 'boolean') {
    if (raw === 'true' || raw === 'false') return { value: raw === 'true' };
    return { error: `expected true or false, got '${raw}'` };
  }
  if (t === 'string') return { value: raw };
  try {
    return { value: JSON.parse(raw) };
  } catch {
    if (t === 'array' || t === 'object') return { error: `expected JSON (${t}), got '${raw}'` };
    return { value: raw };
  }
}
