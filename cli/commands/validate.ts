import { resolveExperiment } from '../api.js';

/**
 * Check a config and print it resolved. Plugin modules it names are not imported (their code does
 * not run) unless `--load-plugins`: their slots are listed as unchecked.
 */
export async function validateCommand(file: string, o: { set: string[]; plugin: string[]; json?: boolean; loadPlugins?: boolean }): Promise<void> {
  const { config, unchecked } = await resolveExperiment(file, { sets: o.set, plugins: o.plugin, loadPlugins: o.loadPlugins === true });
  const modules = config.plugins;
  if (o.json) {
    process.stdout.write(JSON.stringify({ valid: true, config, unchecked, modulesNotLoaded: o.loadPlugins ? [] : modules }) + '\n');
    return;
  }
  process.stdout.write(`${file}: valid\n`);
  if (!o.loadPlugins && modules.length) {
    process.stdout.write(`plugin modules not loaded (--load-plugins imports them and checks their options): ${modules.join(', ')}\n`);
    if (unchecked.length) process.stdout.write(`unchecked: ${unchecked.join(', ')}\n`);
  }
  process.stdout.write(`\n${JSON.stringify(config, null, 2)}\n`);
}
