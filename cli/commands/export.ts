import { SelfsupError } from '../../core/index.js';
import { exportCheckpoint, type ExportFormat } from '../export.js';
import { log } from './train.js';

export async function exportCommand(o: {
  checkpoint: string;
  format: string;
  withHead?: boolean;
  out?: string;
  force?: boolean;
  set: string[];
  plugin: string[];
  json?: boolean;
}): Promise<void> {
  if (o.format !== 'onnx' && o.format !== 'tfjs') throw new SelfsupError(`--format ${o.format}: give onnx or tfjs`, 2);
  const r = await exportCheckpoint(o.checkpoint, {
    format: o.format as ExportFormat,
    withHead: o.withHead,
    out: o.out,
    force: o.force,
    sets: o.set,
    plugins: o.plugin,
    log,
  });
  if (o.json) return void process.stdout.write(JSON.stringify(r) + '\n');
  const rows = r.files.map((f) => `  ${f.path}  ${(f.bytes / 1024).toFixed(0)} KiB`);
  const outs = Object.entries(r.outputs).map(([k, s]) => `  ${k}  [${s.map((d) => (d < 0 ? 'N' : d)).join(', ')}]`);
  const check = r.check
    ? `checked with ${r.check.runtime} on ${r.check.images} images, max |export - selfsup|: ${Object.entries(r.check.maxAbsDiff)
        .map(([k, v]) => `${k} ${v.toExponential(2)}`)
        .join(', ')}`
    : 'not checked: no runtime installed for this format (npm install onnxruntime-node)';
  process.stdout.write(`${r.format} export, ${r.nodes} nodes\nfiles:\n${rows.join('\n')}\noutputs:\n${outs.join('\n')}\n${check}\n`);
}
