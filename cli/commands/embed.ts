import cliProgress from 'cli-progress';
import { SelfsupError, pct } from '../../core/index.js';
import { embedCheckpoint } from '../embed/index.js';
import { log } from './train.js';

/** A bar per stage on a terminal (cli-progress, as training's); elsewhere a line at each quarter. */
function stageProgress(): { update: (stage: string, done: number, total: number) => void; stop: () => void } {
  const tty = process.stderr.isTTY === true;
  let current = '';
  let bar: cliProgress.SingleBar | undefined;
  let quarter = -1;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    update(stage, done, total) {
      if (stage !== current) {
        stop();
        current = stage;
        quarter = -1;
        if (tty) {
          bar = new cliProgress.SingleBar(
            { format: `${stage.padEnd(14)} [{bar}] {value}/{total} | ETA {eta}s`, stream: process.stderr, hideCursor: true, barsize: 24 },
            cliProgress.Presets.shades_classic,
          );
          bar.start(total, 0);
        }
      }
      if (bar) bar.update(done);
      else if (Math.floor((4 * done) / total) > quarter) {
        quarter = Math.floor((4 * done) / total);
        log(`${stage}: ${done}/${total}`);
      }
      if (done >= total) stop();
    },
    stop,
  };
}

export async function embedCommand(o: {
  checkpoint: string;
  out?: string;
  force?: boolean;
  split: string;
  limit?: string;
  data?: string;
  backend?: string;
  set: string[];
  plugin: string[];
  json?: boolean;
}): Promise<void> {
  if (o.split !== 'train' && o.split !== 'test') throw new SelfsupError(`--split ${o.split}: give train or test`, 2);
  const limit = o.limit === undefined ? undefined : Number(o.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw new SelfsupError(`--limit ${o.limit}: give a whole number >= 1`, 2);
  const bars = stageProgress();
  const r = await embedCheckpoint(o.checkpoint, {
    out: o.out,
    force: o.force,
    split: o.split,
    limit,
    data: o.data,
    backend: o.backend,
    sets: o.set,
    plugins: o.plugin,
    log,
    progress: bars.update,
  }).finally(bars.stop);
  const pctOrNa = (v?: number) => (v === undefined ? 'n/a' : pct(v));
  if (o.json) {
    const { out, split, n, d, knn_top1, knn_k, trainer_knn_top1, trainer_knn_k, knn_top1_trainer_k, preset, step, seconds } = r;
    const line = { out, split, n, d, knn_top1, knn_k, trainer_knn_top1, trainer_knn_k, knn_top1_trainer_k, preset, step, seconds: +seconds.toFixed(1) };
    return void process.stdout.write(JSON.stringify(line) + '\n');
  }
  process.stdout.write(
    `${r.n} ${r.split} images embedded (h: ${r.d} features) in ${r.seconds.toFixed(1)} s\n` +
      `kNN top-1 (k=${r.knn_k}, cosine, test vs train): ${pctOrNa(r.knn_top1)}` +
      (r.trainer_knn_top1 === undefined
        ? ''
        : `; the trainer's (k=${r.trainer_knn_k}): ${pctOrNa(r.trainer_knn_top1)}, these features at its k: ${pctOrNa(r.knn_top1_trainer_k)}`) +
      `\nfiles:\n${r.files.map((f) => `  ${f}`).join('\n')}\nopen ${r.out}/index.html\n`,
  );
}
