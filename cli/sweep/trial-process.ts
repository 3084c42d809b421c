import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../core/index.js';
import type { TrialOutcome } from '../../core/sweep/index.js';
import type { RunTrialMessage, TrialProgress, WorkerMessage } from './protocol.js';

/** The built trial process (dist/cli/sweep-worker.js). */
export const defaultTrialScript = () => path.join(packageRoot(), 'dist', 'cli', 'sweep-worker.js');

/** How one trial ended in its process. */
export type TrialResult =
  | { ok: true; outcome: TrialOutcome; resumedFrom: number }
  | {
      ok: false;
      error: string;
      /** the process died during the trial (killed, out of memory): a new one is needed */
      died: boolean;
      /** running it again may succeed (the process died, or the machine refused: a lock, a full disk); a training error (NaN loss, bad data, a bad config) is not */
      retryable: boolean;
    };

/**
 * One forked trial process (`sweep-worker`, one tfjs backend) that trains the trials it is given one
 * at a time: the local runner keeps one per worker slot, and a queue worker one per concurrency slot.
 * Its output goes to `logFile`. When it dies during a trial the trial ends `died`, and `run` forks a
 * fresh process for the next one.
 */
export class TrialProcess {
  private child?: ChildProcess;

  constructor(
    private readonly logFile: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly script = defaultTrialScript(),
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private spawn(): ChildProcess {
    const fd = fs.openSync(this.logFile, 'a');
    try {
      const child = fork(this.script, [], { stdio: ['ignore', fd, fd, 'ipc'], env: this.env });
      child.on('exit', () => {
        if (this.child === child) this.child = undefined;
      });
      return child;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Train `m` in this process (forked now if there is none); `onProgress` receives its step reports. */
  run(m: RunTrialMessage, onProgress: (p: TrialProgress) => void): Promise<TrialResult> {
    const w = this.child && this.child.connected ? this.child : (this.child = this.spawn());
    return new Promise<TrialResult>((resolve) => {
      const onMessage = (msg: WorkerMessage) => {
        if (msg.type === 'progress' && msg.hash === m.hash) onProgress(msg);
        else if (msg.type === 'done' && msg.hash === m.hash) finish({ ok: true, outcome: msg.outcome, resumedFrom: msg.resumedFrom });
        else if (msg.type === 'failed' && msg.hash === m.hash) finish({ ok: false, error: msg.error, died: false, retryable: msg.retryable });
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        finish({
          ok: false,
          error: `the trial process exited (${signal ? `signal ${signal}` : `code ${code}`}) during this trial; see ${this.logFile}`,
          died: true,
          retryable: true,
        });
      const finish = (r: TrialResult) => {
        w.off('message', onMessage);
        w.off('exit', onExit);
        resolve(r);
      };
      w.on('message', onMessage);
      w.on('exit', onExit);
      w.send(m);
    });
  }

  /** Kill the process now (its trial, if any, ends `died`). */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  /** Let the process exit once idle (it exits when its IPC channel closes). */
  close(): void {
    if (this.child?.connected) this.child.disconnect();
  }
}
