import { PLUGIN_KINDS, type PluginDefinition, type PluginKind } from '../plugin/definition.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { ExperimentSchema } from './experiment.js';

type JsonSchema = Record<string, unknown>;

/** JSON round-trip: drops TypeBox's symbol keys so the schema is plain JSON. */
const plain = <T>(x: T): T => JSON.parse(JSON.stringify(x));

/** One plugin's branch: `type` const + its options, no unknown keys; options with defaults are not required. */
export function pluginBranch(def: PluginDefinition): JsonSchema {
  const options = plain(def.options) as JsonSchema & { properties?: Record<string, JsonSchema>; required?: string[] };
  const props = options.properties ?? {};
  const required = (options.required ?? []).filter((k) => props[k]?.default === undefined);
  return {
    type: 'object',
    title: `${def.kind} '${def.name}'`,
    description: def.description + (def.reference ? ` (${def.reference})` : ''),
    properties: { type: { const: def.name, description: def.description }, ...props },
    required: ['type', ...required],
    // a stand-in for a plugin whose module was not loaded (validate without --load-plugins)
    additionalProperties: (def as { unchecked?: boolean }).unchecked === true,
  };
}

/**
 * The experiment's full JSON Schema, composed from every registered plugin's options schema: one
 * `$defs` entry per kind, a discriminated `oneOf` over that kind's plugins (`type` is the tag). The
 * same document validates configs (ajv, one pass) and serves editors as `$schema`.
 */
export function composeSchema(registry: PluginRegistry): JsonSchema {
  const defs: Record<string, JsonSchema> = {};
  for (const kind of PLUGIN_KINDS) defs[kind] = kindSchema(registry, kind);
  const root = plain(ExperimentSchema) as JsonSchema & { properties: Record<string, JsonSchema> };
  root.properties.backend = { ...root.properties.backend, enum: ['auto', ...registry.namesOf('backend')] };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'urn:selfsup:schema:experiment',
    title: 'selfsup experiment',
    ...root,
    $defs: defs,
  };
}

function kindSchema(registry: PluginRegistry, kind: PluginKind): JsonSchema {
  const names = registry.namesOf(kind);
  if (names.length === 0) return { description: `no ${kind} plugin is registered`, not: {} };
  return {
    type: 'object',
    description: `a ${kind} plugin: ${names.join(' | ')}`,
    required: ['type'],
    discriminator: { propertyName: 'type' },
    oneOf: names.map((n) => pluginBranch(registry.get(kind, n))),
  };
}
