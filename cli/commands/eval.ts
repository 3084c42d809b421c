import { evaluateCheckpoint } from '../api.js';
import { metricsTable } from './format.js';
import { log } from './train.js';

export async function evalCommand(o: { checkpoint: string; set: string[]; plugin: string[]; backend?: string; json?: boolean }): Promise<void> {
  const r = await evaluateCheckpoint(o.checkpoint, { sets: o.set, plugins: o.plugin, backend: o.backend, log });
  if (o.json) process.stdout.write(JSON.stringify({ checkpoint: o.checkpoint, ...r }) + '\n');
  else process.stdout.write(`${r.name} at step ${r.steps} (epoch ${r.epoch}) on ${r.backend}\n\n${metricsTable(r.eval)}\n`);
}
