import { createRegistry, loadExternalPlugins, schemaOf } from '../api.js';

export async function schemaCommand(o: { plugin: string[] }): Promise<void> {
  const registry = createRegistry();
  await loadExternalPlugins(registry, o.plugin, '--plugin');
  process.stdout.write(JSON.stringify(schemaOf(registry), null, 2) + '\n');
}
