import { Type } from '@sinclair/typebox';
import cliProgress from 'cli-progress';
import { definePlugin, etaText } from '../../core/index.js';

/**
 * Progress bar on stderr (cli-progress): step, loss (with its named terms and the collapse monitor
 * `z_std`), views/s, learning rate and ETA; one line per epoch with its metrics. On a non-TTY it prints a line every `every` steps instead.
 *
 * @example { "type": "progress" }
 */
export default definePlugin({
  kind: 'callback',
  name: 'progress',
  description: 'progress bar (loss, views/s, ETA) and per-epoch metric lines on stderr',
  options: Type.Object({
    every: Type.Integer({ default: 10, minimum: 1, description: 'steps between lines when stderr is not a terminal' }),
  }),
  create: (o) => {
    const tty = process.stderr.isTTY === true;
    let bar: cliProgress.SingleBar | undefined;
    let start = 0;
    let total = 0;
    const open = (at: number) => {
      bar = new cliProgress.SingleBar(
        {
          format: 'step {value}/{total} [{bar}] loss {loss}{terms} | {vps} views/s | lr {lr} | ETA {etaText}',
          stream: process.stderr,
          hideCursor: true,
          barsize: 24,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, at, { loss: '-', terms: '', vps: '-', lr: '-', etaText: '-' });
    };
    const close = () => {
      bar?.stop();
      bar = undefined;
    };
    return {
      onTrainStart(info) {
        start = info.startStep;
        total = info.totalSteps;
        process.stderr.write(
          `training ${info.name} on ${info.backend}: ${info.epochs} epochs x ${info.stepsPerEpoch} steps, ${info.parameters.toLocaleString('en')} parameters\n`,
        );
        if (tty) open(info.startStep);
      },
      onStepEnd(r) {
        if (r.totalSteps !== total) {
          total = r.totalSteps; // a time budget refits the horizon
          bar?.setTotal(total);
        }
        const rate = (r.step - start) / Math.max(r.elapsedSeconds, 1e-9);
        const left = etaText((r.totalSteps - r.step) / Math.max(rate, 1e-9));
        const terms = Object.entries({ ...r.terms, ...r.monitor })
          .map(([k, v]) => ` ${k} ${v.toPrecision(3)}`)
          .join('');
        const fields = {
          loss: r.loss.toFixed(4),
          terms: terms ? ` (${terms.trim()})` : '',
          vps: Math.round(r.viewsPerSecond),
          lr: r.lr.toExponential(2),
          etaText: left,
        };
        if (bar) bar.update(r.step, fields);
        else if (r.step % o.every === 0 || r.step === r.totalSteps) {
          process.stderr.write(`step ${r.step}/${r.totalSteps} loss ${fields.loss}${fields.terms} | ${fields.vps} views/s | lr ${fields.lr} | ETA ${left}\n`);
        }
      },
      onEvalStart(what) {
        close();
        process.stderr.write(`evaluating (${what})...\n`);
      },
      onEpochEnd(e) {
        const m = Object.entries(e.metrics)
          .map(([k, v]) => `${k} ${formatMetric(k, v)}`)
          .join('  ');
        const line = `epoch ${e.epoch}: loss ${e.loss.toFixed(4)}  ${e.seconds.toFixed(1)}s${m ? '  ' + m : ''}`;
        close();
        process.stderr.write(line + '\n');
        if (tty && e.step < total) open(e.step);
      },
      onTrainEnd: close,
    };
  },
});

/** Accuracies (`*_top1`, `*acc*`) as percentages; loss terms and the collapse monitor as numbers. */
export function formatMetric(key: string, v: number): string {
  return /top\d|acc/.test(key) ? `${(100 * v).toFixed(2)}%` : v.toPrecision(4);
}
