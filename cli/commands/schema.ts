import { createRegistry, loadExternalPlugins, schemaOf } from '../api.js';
import { sweepSchema } from '../sweep-api.js';

export async function schemaCommand(o: { plugin: string[]; sweep?: boolean }): Promise<void> {
  if (o.sweep) {
    process.stdout.write(JSON.stringify(sweepSchema(), null, 2) + '\n');
    return;
  }
  const registry = createRegistry();
  await loadExternalPlugins(registry, o.plugin, '--plugin');
  process.stdout.write(JSON.stringify(schemaOf(registry), null, 2) + '\n');
}
