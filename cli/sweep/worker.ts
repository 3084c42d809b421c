/**
 * A trial process (forked by the local sweep runner or by a queue worker, one tfjs backend each):
 * trains the trials its parent sends, one at a time, and reports progress and outcomes over IPC. It
 * never writes the results store. A trial whose directory holds its checkpoint (its last process was
 * killed) resumes from it. It exits when its parent goes away (the IPC channel closes), so killing
 * the parent never leaves orphans training.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  CHECKPOINT_FILE,
  EnvironmentError,
  SelfsupError,
  createRegistry,
  loadExternalPlugins,
  selectBackend,
  stateTensors,
  tf,
  train,
  type BackendChoice,
  type Callback,
} from '../api.js';
import type { RunTrialMessage, WorkerMessage } from './protocol.js';

const send = (m: WorkerMessage) => process.send?.(m);
// the parent is gone (killed): stop at once rather than finish a trial nobody will record
const parent = process.ppid;
const orphaned = () => !process.connected || process.ppid !== parent;
process.on('disconnect', () => process.exit(0));

const registry = createRegistry();
const loadedPlugins = new Set<string>();
let backend: BackendChoice | undefined;
let backendFor = '';
let queue = Promise.resolve();

/** The checkpoint's step in `dir`, or 0 where there is none (or it cannot be read: the trial starts over). */
function checkpointStep(dir: string): number {
  try {
    const step = Number(JSON.parse(fs.readFileSync(path.join(dir, CHECKPOINT_FILE), 'utf8')).step);
    return Number.isInteger(step) && step > 0 ? step : 0;
  } catch {
    return 0;
  }
}

async function runTrial(m: RunTrialMessage): Promise<void> {
  const t0 = performance.now();
  const resumeAt = m.fresh ? 0 : checkpointStep(m.outDir);
  if (!resumeAt) fs.rmSync(m.outDir, { recursive: true, force: true });
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
    // the trial's own directory: continue its checkpoint, or (made afresh above) force
    const r = await train(m.config, {
      registry,
      outDir: m.outDir,
      backendReady: backend,
      callbacks: [progress],
      log,
      // a trial killed during its final evaluation (its budget spent) is evaluated, not refused
      ...(resumeAt ? { resume: m.outDir, finishIfDone: true } : { force: true }),
    });
    tf.dispose([...new Set(stateTensors(r.parts).values())]);
    send({
      type: 'done',
      hash: m.hash,
      outcome: { backend: r.backend, steps: r.steps, seconds: r.seconds, trainSeconds: r.trainSeconds, final: { ...r.eval, loss: r.loss }, history: r.history },
      resumedFrom: resumeAt,
    });
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    log(`failed: ${e instanceof Error ? e.stack : error}`);
    // the machine said no (a lock, a full disk): another attempt may work; anything else would fail again
    const retryable = e instanceof EnvironmentError || !(e instanceof SelfsupError);
    send({ type: 'failed', hash: m.hash, error, seconds: (performance.now() - t0) / 1000, retryable });
  }
}

process.on('message', (m: RunTrialMessage) => {
  if (m?.type === 'run') queue = queue.then(() => runTrial(m));
});
send({ type: 'ready', pid: process.pid });
