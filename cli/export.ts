import fs from 'node:fs';
import path from 'node:path';
import { DataError, SelfsupError, evalViewOf, readImages, normalizeImages, runBranch, tf, writeAtomic, type Tensor, type Tensor4D } from '../core/index.js';
import { traceForward, type TracedGraph } from '../core/export/trace.js';
import { toOnnx } from '../core/export/onnx.js';
import { toTfjsGraphModel } from '../core/export/tfjs-graph.js';
import { loadCheckpointRun, type ResolveOptions } from './api.js';
import { selfsupVersion } from './version.js';

export type ExportFormat = 'onnx' | 'tfjs';

export interface ExportOptions extends ResolveOptions {
  format: ExportFormat;
  /** also output the projection head's `z` beside the encoder's `h` */
  withHead?: boolean;
  /** the file (onnx) or directory (tfjs) to write; default `<checkpoint>/export/encoder.onnx` or `<checkpoint>/export/tfjs` */
  out?: string;
  /** replace an existing export at `out` */
  force?: boolean;
  /** images of the dataset to compare the export on (default 16) */
  checkImages?: number;
  log?: (m: string) => void;
}

export interface ExportResult {
  format: ExportFormat;
  /** what was written: the .onnx file, or model.json and its weight file */
  files: Array<{ path: string; bytes: number }>;
  outputs: Record<string, number[]>;
  nodes: number;
  /** max |export - selfsup| over the check images per output, and the runtime that ran the export; undefined where none is installed */
  check?: { runtime: string; images: number; maxAbsDiff: Record<string, number> };
}

/**
 * Export a checkpoint's encoder (and with `withHead` its projection head) as an ONNX model or a
 * TensorFlow.js graph model. The model takes pixels in [0, 1] (`[N, C, H, W]` for ONNX, `[N, H, W, C]`
 * for tfjs) and normalises them itself with the dataset's mean and std, then runs the task's eval view
 * (colorization's L channel) where it has one; it outputs `h` (and `z`). The forward is traced on the
 * cpu backend (core/export/trace.ts), so any encoder whose kernels the writers map exports, a plugin's
 * own too. Where a runtime is installed (onnxruntime-node; tfjs for tfjs) the written model is run on
 * `checkImages` dataset images and compared with selfsup's own features.
 */
export async function exportCheckpoint(dir: string, opts: ExportOptions): Promise<ExportResult> {
  const log = opts.log ?? (() => {});
  const { meta, config, parts } = await loadCheckpointRun(dir, { ...opts, backend: 'cpu', log });
  const { info } = parts;
  const branch = parts.tasks[0].branch;
  const view = evalViewOf(parts) ?? ((x: Tensor4D) => x);
  const forward = (x: Tensor4D): Record<string, Tensor> => {
    const out = runBranch(branch, normalizeImages(view(x), info), false, false);
    return opts.withHead ? { h: out.h, z: tf.reshape(out.z, [x.shape[0], -1]) } : { h: out.h };
  };
  log(`tracing the ${config.encoder.type} encoder${opts.withHead ? ` and the ${config.tasks[Object.keys(config.tasks)[0]].head.type} head` : ''} ...`);
  const graph = traceForward(forward, [info.height, info.width, info.channels]);
  const out = path.resolve(opts.out ?? path.join(dir, 'export', opts.format === 'onnx' ? 'encoder.onnx' : 'tfjs'));
  const metadata: Record<string, string> = {
    selfsup_version: selfsupVersion(),
    preset: config.name,
    encoder: JSON.stringify(config.encoder),
    step: String(meta.step),
    input: opts.format === 'onnx' ? 'pixels [N, C, H, W] float32 in [0, 1]' : 'pixels [N, H, W, C] float32 in [0, 1]',
    layout: opts.format === 'onnx' ? 'NCHW' : 'NHWC',
    input_size: `${info.height}x${info.width}`,
    channels: String(info.channels),
    normalization: 'inside the model: (pixels - mean) / std per channel',
    mean: JSON.stringify(info.mean),
    std: JSON.stringify(info.std),
    feature_dim: String(branch.encoder.dim),
    outputs: Object.keys(graph.outputs).join(','),
  };
  const files = opts.format === 'onnx' ? writeOnnx(graph, out, metadata, opts.force) : writeTfjs(graph, out, metadata, opts.force);
  log(`wrote ${files.map((f) => `${f.path} (${(f.bytes / 1024).toFixed(0)} KiB)`).join(', ')}`);
  const result: ExportResult = {
    format: opts.format,
    files,
    outputs: Object.fromEntries(Object.entries(graph.outputs).map(([k, r]) => [k, r.shape.map((d) => (typeof d === 'number' ? d : -1))])),
    nodes: graph.nodes.length,
  };
  // the check: the written model against selfsup's forward on dataset images
  const set = parts.data.test ?? parts.data.train;
  const n = Math.min(opts.checkImages ?? 16, set.count);
  const pixels = await readImages(
    set,
    info,
    Int32Array.from({ length: n }, (_, i) => i),
  );
  const expected = tf.tidy(() => forward(pixels));
  const ours = Object.fromEntries(Object.entries(expected).map(([k, t]) => [k, t.dataSync() as Float32Array]));
  tf.dispose(Object.values(expected));
  const theirs = opts.format === 'onnx' ? await runOnnx(files[0].path, pixels) : await runTfjs(out, pixels);
  pixels.dispose();
  if (theirs) {
    const maxAbsDiff = Object.fromEntries(Object.keys(ours).map((k) => [k, maxAbs(ours[k], theirs.outputs[k])]));
    result.check = { runtime: theirs.runtime, images: n, maxAbsDiff };
    log(
      `checked with ${theirs.runtime} on ${n} images: max |export - selfsup| ${Object.entries(maxAbsDiff)
        .map(([k, v]) => `${k} ${v.toExponential(2)}`)
        .join(', ')}`,
    );
  } else log('no runtime to check the export with (npm install onnxruntime-node): not checked');
  return result;
}

function refuseExisting(target: string, force?: boolean): void {
  if (fs.existsSync(target) && !force) throw new SelfsupError(`${target} exists: give another --out, or --force to replace it`, 2);
}

function writeOnnx(graph: TracedGraph, file: string, metadata: Record<string, string>, force?: boolean) {
  refuseExisting(file, force);
  const bytes = toOnnx(graph, { name: 'selfsup_encoder', metadata, producerVersion: selfsupVersion() });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeAtomic(file, bytes);
  return [{ path: file, bytes: bytes.length }];
}

function writeTfjs(graph: TracedGraph, dir: string, metadata: Record<string, string>, force?: boolean) {
  refuseExisting(path.join(dir, 'model.json'), force);
  const { modelJson, weights, weightsFile } = toTfjsGraphModel(graph, metadata);
  fs.mkdirSync(dir, { recursive: true });
  // the weights first: a model.json is only ever beside the weights it names
  writeAtomic(path.join(dir, weightsFile), weights);
  const json = JSON.stringify(modelJson);
  writeAtomic(path.join(dir, 'model.json'), json);
  return [
    { path: path.join(dir, 'model.json'), bytes: Buffer.byteLength(json) },
    { path: path.join(dir, weightsFile), bytes: weights.length },
  ];
}

function maxAbs(a: Float32Array, b: Float32Array | undefined): number {
  if (!b || b.length !== a.length) throw new DataError(`the exported model's output has ${b?.length ?? 0} values where selfsup's has ${a.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

type RunnerResult = { runtime: string; outputs: Record<string, Float32Array> } | undefined;

/** Run an ONNX file with onnxruntime-node, when it is installed (a dev dependency of selfsup, optional for users). */
async function runOnnx(file: string, pixelsNhwc: Tensor4D): Promise<RunnerResult> {
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch {
    return undefined;
  }
  const nchw = tf.tidy(() => tf.transpose(pixelsNhwc, [0, 3, 1, 2]));
  const data = nchw.dataSync() as Float32Array;
  const shape = nchw.shape;
  nchw.dispose();
  const session = await ort.InferenceSession.create(file);
  const res = await session.run({ pixels: new ort.Tensor('float32', data, shape) });
  const outputs = Object.fromEntries(Object.entries(res).map(([k, t]) => [k, t.data as Float32Array]));
  await session.release();
  return { runtime: `onnxruntime-node ${ort.env.versions.node ?? ''}`.trim(), outputs };
}

/** Load the written graph model with tfjs's own loader (tf.loadGraphModel) and run it on the cpu backend. */
async function runTfjs(dir: string, pixels: Tensor4D): Promise<RunnerResult> {
  // the union bundle that core/engine/tf.ts loads: its converter shares selfsup's tfjs-core
  const { loadGraphModel } = await import('@tensorflow/tfjs');
  const model = await loadGraphModel(tfjsFileHandler(dir));
  const names = model.outputs.map((o) => o.name);
  const res = model.execute(pixels, names);
  const list = Array.isArray(res) ? res : [res];
  const outputs = Object.fromEntries(names.map((name, i) => [name, list[i].dataSync() as Float32Array]));
  tf.dispose(list);
  model.dispose();
  return { runtime: 'tfjs loadGraphModel (cpu)', outputs };
}

/** A tfjs IOHandler reading model.json and its weights from a directory (tfjs-node's file:// handler without tfjs-node). */
export function tfjsFileHandler(dir: string) {
  return {
    async load() {
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      const specs = json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
      const buffers = json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
      const all = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}
