import { Container } from 'inversify';
import { ConfigError, PluginError, SelfsupError } from '../errors.js';
import { closest } from '../config/did-you-mean.js';
import { validateRef } from '../config/validate.js';
import { PLUGIN_KINDS, type PluginContext, type PluginDefinition, type PluginInstances, type PluginKind, type PluginRef } from './definition.js';

/** The inversify service identifier under which a kind's plugins are bound (each named by its `name`). */
export const pluginService = (kind: PluginKind): symbol => Symbol.for(`selfsup.plugin.${kind}`);

const NAME_RE = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * Plugin registry: binds each definition in an inversify container under its kind's service
 * identifier, named by the plugin's name, and builds instances from config references.
 *
 * @example
 * const registry = new PluginRegistry().register(infoNce).register(myLoss);
 * const loss = await registry.create('loss', { type: 'info-nce', temperature: 0.5 }, ctx);
 */
export class PluginRegistry {
  readonly container = new Container();
  /** bumped by every registration (the composed schema is rebuilt when it changes) */
  version = 0;
  private readonly names = new Map<PluginKind, string[]>(PLUGIN_KINDS.map((k) => [k, []]));
  /** where each plugin came from (`built-in` or a module path) */
  private readonly origins = new Map<string, string>();
  /** the validated options object each instance was created with (scheduled values are written into it) */
  private readonly options = new WeakMap<object, Record<string, unknown>>();

  register(def: PluginDefinition<any, any>, origin = 'built-in'): this {
    const problem = checkDefinition(def);
    if (problem) throw new SelfsupError(`cannot register plugin from ${origin}: ${problem}`, 2);
    const list = this.names.get(def.kind)!;
    if (list.includes(def.name)) {
      throw new SelfsupError(
        `cannot register ${def.kind} '${def.name}' from ${origin}: that name is taken (by ${this.origins.get(`${def.kind}/${def.name}`)}); choose another name`,
        2,
      );
    }
    this.container.bind(pluginService(def.kind)).toConstantValue(def).whenNamed(def.name);
    list.push(def.name);
    this.version++;
    this.origins.set(`${def.kind}/${def.name}`, origin);
    return this;
  }

  has(kind: PluginKind, name: string): boolean {
    return this.names.get(kind)?.includes(name) ?? false;
  }

  get<K extends PluginKind>(kind: K, name: string): PluginDefinition<K> {
    if (!this.has(kind, name)) {
      const hint = closest(name, this.names.get(kind) ?? []);
      throw new ConfigError([
        { path: '', message: `unknown ${kind} '${name}'`, hint: hint ? `did you mean '${hint}'?` : `known: ${this.names.get(kind)?.join(', ')}` },
      ]);
    }
    return this.container.get<PluginDefinition<K>>(pluginService(kind), { name });
  }

  /** registered names of a kind, in registration order */
  namesOf(kind: PluginKind): string[] {
    return [...(this.names.get(kind) ?? [])];
  }

  list(kind?: PluginKind): Array<PluginDefinition & { origin: string }> {
    const kinds = kind ? [kind] : PLUGIN_KINDS;
    return kinds.flatMap((k) => this.namesOf(k).map((n) => ({ ...this.get(k, n), origin: this.origins.get(`${k}/${n}`) ?? 'built-in' })));
  }

  /** The options object an instance built by `create` received: a schedule writes scheduled values into it. */
  optionsOf(instance: object): Record<string, unknown> | undefined {
    return this.options.get(instance);
  }

  /**
   * Build an instance from a reference (`type` + options). The options are validated against the
   * plugin's schema and defaults are filled, so partial references work from code as from configs.
   */
  async create<K extends PluginKind>(kind: K, ref: PluginRef, ctx: PluginContext): Promise<PluginInstances[K]> {
    const def = this.get(kind, ref.type);
    const { type: _type, ...options } = validateRef(this, kind, ref, ctx.path);
    let instance: PluginInstances[K];
    try {
      instance = await def.create(options as never, ctx);
    } catch (err) {
      if (err instanceof SelfsupError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      const wrapped = new SelfsupError(`${kind} '${ref.type}' at ${ctx.path || '/'} failed to build: ${msg}`, 2);
      (wrapped as { cause?: unknown }).cause = err;
      throw wrapped;
    }
    // the plugin's own bug: what create() gave is not an instance to call
    if (!instance || typeof instance !== 'object')
      throw new PluginError(`${kind} '${ref.type}' at ${ctx.path || '/'}: create() returned ${String(instance)}, not an object`);
    this.options.set(instance, options);
    return instance;
  }
}

function checkDefinition(def: PluginDefinition<any, any>): string | undefined {
  if (!def || typeof def !== 'object') return 'a plugin must be an object made with definePlugin()';
  if (!PLUGIN_KINDS.includes(def.kind)) return `unknown kind '${String(def.kind)}' (kinds: ${PLUGIN_KINDS.join(', ')})`;
  if (typeof def.name !== 'string' || !NAME_RE.test(def.name)) return `name '${String(def.name)}' must be kebab-case (e.g. 'my-loss')`;
  if (typeof def.create !== 'function') return `${def.kind} '${def.name}' has no create() factory`;
  if (!def.options || def.options.type !== 'object') return `${def.kind} '${def.name}': options must be an object schema (Type.Object({...}))`;
  if (def.options.properties && 'type' in def.options.properties) return `${def.kind} '${def.name}': 'type' is reserved for the plugin name`;
  return undefined;
}
