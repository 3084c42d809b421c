import path from 'node:path';
import { progressCallback, readCheckpoint, runExperiment } from '../api.js';
import { metricsTable } from './format.js';

export interface TrainFlags {
  preset: string;
  set: string[];
  plugin: string[];
  out?: string;
  resume?: string;
  previous?: boolean;
  force?: boolean;
  backend?: string;
  json?: boolean;
}

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
export const log = (m: string) => process.stderr.write(`${m}\n`);

export async function trainCommand(o: TrainFlags): Promise<void> {
  const name = o.resume ? readCheckpoint(o.resume, { previous: o.previous }).meta.config.name : path.basename(o.preset).replace(/\.json$/, '');
  const outDir = o.out ?? o.resume ?? path.join('runs', `${name}-${stamp()}`);
  const result = await runExperiment(o.preset, {
    sets: o.set,
    plugins: o.plugin,
    outDir,
    resume: o.resume,
    previous: o.previous,
    force: o.force,
    handleSignals: true,
    backend: o.backend,
    callbacks: [await progressCallback()],
    log,
  });
  const summary = {
    preset: o.resume ? name : o.preset,
    backend: result.backend,
    steps: result.steps,
    epochs: +result.epochs.toFixed(2),
    seconds: +result.seconds.toFixed(1),
    loss: +result.loss.toFixed(5),
    eval: result.eval,
    out: outDir,
  };
  if (o.json) {
    process.stdout.write(JSON.stringify(summary) + '\n');
    return;
  }
  process.stdout.write(`\n${name}: ${result.steps} steps in ${result.seconds.toFixed(1)} s on ${result.backend}, final loss ${result.loss.toFixed(4)}\n\n`);
  process.stdout.write(metricsTable(result.eval) + '\n');
  process.stdout.write(`\ncheckpoint, metrics.jsonl and result.json in ${outDir}\n`);
}
