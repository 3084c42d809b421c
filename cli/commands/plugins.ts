import { createRegistry, loadExternalPlugins } from '../api.js';
import { table } from './format.js';

export async function pluginsCommand(o: { json?: boolean; plugin: string[] }): Promise<void> {
  const registry = createRegistry();
  await loadExternalPlugins(registry, o.plugin, '--plugin');
  const list = registry.list().map((p) => ({
    kind: p.kind,
    name: p.name,
    description: p.description,
    reference: p.reference,
    origin: p.origin,
    options: Object.keys((p.options.properties ?? {}) as object),
  }));
  if (o.json) {
    process.stdout.write(JSON.stringify(list) + '\n');
    return;
  }
  process.stdout.write(
    table(
      ['kind', 'name', 'description', 'options'],
      list.map((p) => [p.kind, p.name, p.description + (p.origin !== 'built-in' ? ` [${p.origin}]` : ''), p.options.join(', ')]),
    ) + '\n',
  );
}
