import type { PlannedTrial } from '../../core/sweep/index.js';
import type { SweepEvent } from './runner.js';

const clock = (s: number) => {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
};

/**
 * The sweep's live status on stderr: one overall line (done / running / failed / pending, elapsed,
 * ETA) and one line per worker (its trial and step). On a terminal the block is redrawn in place;
 * otherwise a line is printed when a trial starts or ends, and the status every 30 s.
 */
export class SweepProgress {
  private total = 0;
  private todo = 0;
  private done = 0;
  private failed = 0;
  private readonly started = performance.now();
  private readonly durations: number[] = [];
  private readonly slots = new Map<string, { trial: PlannedTrial; step: number; totalSteps: number; loss: number; since: number }>();
  private workers = 1;
  private drawn = 0;
  private timer?: NodeJS.Timeout;
  private name = '';

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly tty = Boolean(process.stderr.isTTY),
  ) {}

  readonly onEvent = (e: SweepEvent) => {
    switch (e.type) {
      case 'start':
        Object.assign(this, { name: e.name, total: e.total, todo: e.todo, workers: e.workers });
        this.line(`sweep ${e.name}: ${e.total} trials, ${e.finished} already finished, ${e.todo} to run on ${e.workers} worker${e.workers === 1 ? '' : 's'}`);
        this.timer = setInterval(() => (this.tty ? this.redraw() : this.line([this.status(), ...this.workerLines()].join('\n'))), this.tty ? 500 : 30_000);
        this.timer.unref();
        break;
      case 'trial-start':
        this.slots.set(e.worker, { trial: e.trial, step: 0, totalSteps: 0, loss: NaN, since: performance.now() });
        if (!this.tty) this.line(`[worker ${e.worker}] trial ${e.trial.index} ${e.trial.label}: started`);
        break;
      case 'trial-progress':
        Object.assign(this.slots.get(e.worker) ?? {}, { step: e.step, totalSteps: e.totalSteps, loss: e.loss });
        break;
      case 'trial-end': {
        this.slots.delete(e.worker);
        this.durations.push(e.seconds);
        if (e.status === 'done') this.done++;
        else this.failed++;
        const what =
          e.status === 'done'
            ? Object.entries(e.outcome?.final ?? {})
                .filter(([k]) => /top1$/.test(k))
                .map(([k, v]) => `${k} ${(100 * v).toFixed(2)}%`)
                .join(', ')
            : `FAILED: ${e.error}`;
        const notes = [e.resumedFrom ? `resumed from step ${e.resumedFrom}` : '', e.attempts && e.attempts > 1 ? `attempt ${e.attempts}` : ''].filter(Boolean);
        this.line(
          `[worker ${e.worker}] trial ${e.trial.index} ${e.trial.label}: ${e.status} in ${clock(e.seconds)}${what ? ` (${what})` : ''}${notes.length ? ` [${notes.join(', ')}]` : ''}`,
        );
        break;
      }
      case 'end':
        clearInterval(this.timer);
        this.clear();
        this.line(this.status());
        break;
    }
    if (this.tty && e.type !== 'end') this.redraw();
  };

  private status(): string {
    const finished = this.done + this.failed;
    const runningCount = this.slots.size;
    const pending = this.todo - finished - runningCount;
    const elapsed = (performance.now() - this.started) / 1000;
    const mean = this.durations.length ? this.durations.reduce((a, b) => a + b, 0) / this.durations.length : NaN;
    const eta = ((pending + runningCount / 2) * mean) / Math.max(1, this.workers);
    return `sweep ${this.name}: ${finished}/${this.todo} done (${this.failed} failed), ${runningCount} running, ${pending} pending | ${clock(elapsed)} elapsed | ETA ${this.durations.length ? clock(eta) : '?'}`;
  }

  private workerLines(): string[] {
    return [...this.slots.entries()]
      .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
      .map(
        ([w, s]) =>
          `  worker ${w}: trial ${s.trial.index} ${s.trial.label} | step ${s.step}/${s.totalSteps || '?'}${Number.isFinite(s.loss) ? ` loss ${s.loss.toFixed(4)}` : ''} | ${clock((performance.now() - s.since) / 1000)}`,
      );
  }

  private clear(): void {
    if (!this.tty || this.drawn === 0) return;
    this.out.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private redraw(): void {
    this.clear();
    const lines = [this.status(), ...this.workerLines()];
    const width = (this.out.columns ?? 120) - 1;
    this.out.write(lines.map((l) => l.slice(0, width)).join('\n') + '\n');
    this.drawn = lines.length;
  }

  private line(text: string): void {
    this.clear();
    this.out.write(text + '\n');
  }
}
