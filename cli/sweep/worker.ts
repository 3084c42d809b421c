/**
 * A sweep worker process (forked by the runner, one tfjs backend each): trains the trials the runner
 * sends, one at a time, and reports progress and outcomes over IPC. It never writes the results
 * store. It exits when the runner goes away (the IPC channel closes), so killing the runner never
 * leaves orphans training.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRegistry, loadExternalPlugins, selectBackend, stateTensors, tf, train, type BackendChoice, type Callback } from '../api.js';
import type { RunTrialMessage, WorkerMessage } from './protocol.js';

const send = (m: WorkerMessage) => process.send?.(m);
// the runner is gone (killed): stop at once rather than finish a trial nobody will record
const parent = process.ppid;
const orphaned = () => !process.connected || process.ppid !== parent;
process.on('disconnect', () => process.exit(0));

const registry = createRegistry();
const loadedPlugins = new Set<string>();
let backend: BackendChoice | undefined;
let backendFor = '';
let queue = Promise.resolve();

async function runTrial(m: RunTrialMessage): Promise<void> {
  const t0 = performance.now();
  fs.rmSync(m.outDir, { recursive: true, force: true });
  fs.mkdirSync(m.outDir, { recursive: true });
  const logFile = path.join(m.outDir, 'train.log');
  const log = (line: string) => fs.appendFileSync(logFile, `${line}\n`);
  try {
    const fresh = m.config.plugins.filter((p) => !loadedPlugins.has(p));
    await loadExternalPlugins(registry, fresh);
    fresh.forEach((p) => loadedPlugins.add(p));
    if (!backend || backendFor !== m.config.backend) {
      backend = await selectBackend(registry, m.config.backend, log);
      backendFor = m.config.backend;
    }
    let lastSent = 0;
    const progress: Callback = {
      onStepEnd(s) {
        if (orphaned()) process.exit(1);
        const now = performance.now();
        if (now - lastSent < 500 && s.step < s.totalSteps) return;
        lastSent = now;
        send({ type: 'progress', hash: m.hash, step: s.step, totalSteps: s.totalSteps, loss: s.loss, epoch: s.epoch });
      },
    };
    // the trial's own directory, made afresh above (it holds train.log): force
    const r = await train(m.config, { registry, outDir: m.outDir, backendReady: backend, callbacks: [progress], log, force: true });
    tf.dispose([...new Set(stateTensors(r.parts).values())]);
    send({
      type: 'done',
      hash: m.hash,
      outcome: { backend: r.backend, steps: r.steps, seconds: r.seconds, trainSeconds: r.trainSeconds, final: { ...r.eval, loss: r.loss }, history: r.history },
    });
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    log(`failed: ${e instanceof Error ? e.stack : error}`);
    send({ type: 'failed', hash: m.hash, error, seconds: (performance.now() - t0) / 1000 });
  }
}

process.on('message', (m: RunTrialMessage) => {
  if (m?.type === 'run') queue = queue.then(() => runTrial(m));
});
send({ type: 'ready', pid: process.pid });
