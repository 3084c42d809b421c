import { resolveExperiment } from '../api.js';

export async function validateCommand(file: string, o: { set: string[]; plugin: string[]; json?: boolean }): Promise<void> {
  const { config } = await resolveExperiment(file, { sets: o.set, plugins: o.plugin });
  if (o.json) process.stdout.write(JSON.stringify({ valid: true, config }) + '\n');
  else process.stdout.write(`${file}: valid\n\n${JSON.stringify(config, null, 2)}\n`);
}
