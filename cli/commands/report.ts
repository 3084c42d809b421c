import fs from 'node:fs';
import path from 'node:path';
import { SelfsupError } from '../api.js';
import { STORE_FILE, writeReport } from '../sweep-api.js';

/** `selfsup report DIR`: rebuild report.md and report.html from a sweep's store and print the table. */
export async function reportCommand(dir: string, o: { json?: boolean }): Promise<void> {
  if (!fs.existsSync(path.join(dir, STORE_FILE))) throw new SelfsupError(`no sweep results in ${dir} (${STORE_FILE} not found)`, 4);
  const r = await writeReport(dir);
  if (o.json) {
    process.stdout.write(
      JSON.stringify({
        name: r.name,
        metrics: r.metrics,
        axes: r.axes,
        groups: r.groups.map(({ axes, trials, done, failed, metrics, steps }) => ({
          axes,
          trials,
          done,
          failed,
          steps,
          metrics: Object.fromEntries(Object.entries(metrics).map(([k, s]) => [k, { mean: s.mean, std: s.std, n: s.n }])),
        })),
        files: r.files,
      }) + '\n',
    );
    return;
  }
  process.stdout.write(`${r.markdown}\nreport: ${r.files.join(', ')}\n`);
}
