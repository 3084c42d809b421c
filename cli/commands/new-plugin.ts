import path from 'node:path';
import { scaffoldPlugin } from '../scaffold/new-plugin.js';

export function newPluginCommand(kind: string, name: string, o: { dir?: string; json?: boolean }): void {
  const r = scaffoldPlugin(kind, name, path.resolve(o.dir ?? '.'));
  if (o.json) return void process.stdout.write(JSON.stringify(r) + '\n');
  const [plugin, test, config] = r.files.map((f) => path.relative(process.cwd(), f) || f);
  process.stdout.write(
    `wrote a ${kind} plugin '${name}' (an example that ${r.summary}: edit it):\n` +
      `  ${plugin}\n  ${test}\n  ${config}\n\n` +
      `check it:  npx vitest run ${test}\n` +
      `           npx selfsup validate ${config} --load-plugins\n` +
      `train:     npx selfsup train ${config}\n`,
  );
}
