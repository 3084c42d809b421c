import path from 'node:path';
import { builtinPresets, listPresets, packageRoot } from '../api.js';
import { table } from './format.js';

/** The sweeps shipped in presets/sweeps (`selfsup sweep <name>`). */
export const builtinSweeps = () => ({ dirs: [path.join(packageRoot(), 'presets', 'sweeps')] });

export async function presetsCommand(o: { json?: boolean }): Promise<void> {
  const list = listPresets(builtinPresets()).map(({ name, description, file }) => ({ name, description, file }));
  const sweeps = listPresets(builtinSweeps()).map(({ name, description, file }) => ({ name, description, file }));
  if (o.json) process.stdout.write(JSON.stringify(list.map((p) => ({ ...p, kind: 'preset' })).concat(sweeps.map((s) => ({ ...s, kind: 'sweep' })))) + '\n');
  else {
    process.stdout.write(
      table(
        ['preset', 'description'],
        list.map((p) => [p.name, p.description]),
      ) + '\n\n',
    );
    process.stdout.write(
      table(
        ['sweep (selfsup sweep <name>)', 'description'],
        sweeps.map((p) => [p.name, p.description]),
      ) + '\n',
    );
  }
}
