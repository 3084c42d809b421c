import { builtinPresets, listPresets } from '../api.js';
import { table } from './format.js';

export async function presetsCommand(o: { json?: boolean }): Promise<void> {
  const list = listPresets(builtinPresets()).map(({ name, description, file }) => ({ name, description, file }));
  if (o.json) process.stdout.write(JSON.stringify(list) + '\n');
  else process.stdout.write(table(['preset', 'description'], list.map((p) => [p.name, p.description])) + '\n');
}
