import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { browserTest, launchChromium } from '../browser.js';
import { exportCheckpoint, normalizeImages, runExperiment, tf, type Tensor4D } from '../../cli/api.js';
import { rebuildFromCheckpoint } from '../helpers.js';

/** selfsup's own h for NHWC pixels, built from the checkpoint here (independently of the exporter's check) */
async function selfsupH(dir: string, pixels: Float32Array, shape: [number, number, number, number]): Promise<Float32Array> {
  const parts = await rebuildFromCheckpoint(dir);
  return tf.tidy(() => parts.encoder.forward(normalizeImages(tf.tensor4d(pixels, shape) as Tensor4D, parts.info), false).h.dataSync() as Float32Array);
}

// Each encoder trained one short epoch on synthetic 16x16 images (batch-norm running statistics
// away from their initial values), then exported; exportCheckpoint runs the written model (ONNX in
// onnxruntime-node, tfjs with tf.loadGraphModel) on 16 images and compares it with selfsup's forward.
const ENCODERS: Record<string, Record<string, unknown>> = {
  'small-cnn': { type: 'small-cnn', widths: [8, 16] },
  resnet18: { type: 'resnet', depth: 18, widthMultiplier: 0.125 },
  vit: { type: 'vit', size: 'tiny', dim: 32, depth: 2, heads: 2, patchSize: 4 },
};
const config = (encoder: Record<string, unknown>) => ({
  name: 'export-test',
  seed: 0,
  backend: 'cpu',
  data: { type: 'synthetic', train: 48, test: 32, size: 16, classes: 4, channels: 3 },
  encoder,
  augmenter: { type: 'multi-view', views: 2, pipeline: [{ type: 'random-resized-crop', scale: [0.5, 1] }, { type: 'horizontal-flip' }] },
  head: { type: 'mlp', layers: 2, hiddenDim: 16, outDim: 8 },
  target: { type: 'shared' },
  negatives: { type: 'in-batch' },
  loss: { type: 'info-nce', temperature: 0.5 },
  optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 },
  train: { epochs: 1, batchSize: 16 },
  eval: { every: 0, monitor: [], final: [] },
});
const runs = new Map<string, Promise<string>>();
const trained = (name: string) => {
  if (!runs.has(name)) {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), `selfsup-export-${name}-`));
    runs.set(
      name,
      runExperiment(config(ENCODERS[name]), { outDir: out, log: () => {} }).then(() => out),
    );
  }
  return runs.get(name)!;
};

const itInBrowser = browserTest("the tfjs export's browser test");
const TFJS_BUNDLE = path.resolve('node_modules/@tensorflow/tfjs/dist/tf.min.js');

const onnxModel = (file: string) => onnxProto.onnx.ModelProto.decode(fs.readFileSync(file));

describe('selfsup export', () => {
  for (const name of Object.keys(ENCODERS)) {
    it(`${name}: the ONNX model's h and z equal selfsup's on 16 images (onnxruntime-node), with a dynamic batch and its metadata`, async () => {
      const dir = await trained(name);
      const r = await exportCheckpoint(dir, { format: 'onnx', withHead: true });
      expect(r.check?.runtime).toMatch(/^onnxruntime-node/);
      expect(r.check!.images).toBe(16);
      expect(r.check!.maxAbsDiff.h).toBeLessThan(1e-4);
      expect(r.check!.maxAbsDiff.z).toBeLessThan(1e-4);
      const file = r.files[0].path;
      expect(file).toBe(path.join(dir, 'export', 'encoder.onnx'));
      const model = onnxModel(file);
      const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
      expect(meta).toMatchObject({ layout: 'NCHW', input_size: '16x16', channels: '3', preset: 'export-test', outputs: 'h,z' });
      expect(JSON.parse(meta.mean!)).toHaveLength(3);
      expect(JSON.parse(meta.std!)).toHaveLength(3);
      expect(Number(meta.feature_dim)).toBe(r.outputs.h[1]);
      expect(model.graph!.input![0].type!.tensorType!.shape!.dim![0].dimParam).toBe('N');
      // any batch size: an image's features do not depend on the others in its batch (eval mode)
      const session = await ort.InferenceSession.create(file);
      const px = Float32Array.from({ length: 5 * 3 * 16 * 16 }, (_, i) => ((i * 7919) % 997) / 997);
      const five = await session.run({ pixels: new ort.Tensor('float32', px, [5, 3, 16, 16]) });
      const one = await session.run({ pixels: new ort.Tensor('float32', px.slice(3 * 16 * 16, 2 * 3 * 16 * 16), [1, 3, 16, 16]) });
      expect(five.h.dims).toEqual([5, r.outputs.h[1]]);
      expect(one.h.dims).toEqual([1, r.outputs.h[1]]);
      const d = r.outputs.h[1];
      const row1 = (five.h.data as Float32Array).slice(d, 2 * d);
      (one.h.data as Float32Array).forEach((v, i) => expect(Math.abs(v - row1[i])).toBeLessThan(1e-5));
      // and the same as selfsup's encoder restored from the checkpoint here, on these 5 images (NCHW -> NHWC)
      const nhwc = tf.tidy(() => tf.transpose(tf.tensor4d(px, [5, 3, 16, 16]), [0, 2, 3, 1]).dataSync() as Float32Array);
      const ours = await selfsupH(dir, nhwc, [5, 16, 16, 3]);
      let max = 0;
      (five.h.data as Float32Array).forEach((v, i) => (max = Math.max(max, Math.abs(v - ours[i]))));
      expect(max).toBeLessThan(1e-4);
      expect(Math.max(...ours.map(Math.abs))).toBeGreaterThan(1e-3); // features that are not all zero
      await session.release();
      // an existing export is never replaced without --force
      await expect(exportCheckpoint(dir, { format: 'onnx' })).rejects.toThrow(/encoder\.onnx exists: give another --out, or --force/);
    }, 120_000);

    it(`${name}: the tfjs graph model loads with tf.loadGraphModel and its h equals selfsup's`, async () => {
      const dir = await trained(name);
      const out = path.join(dir, 'tfjs-out');
      const r = await exportCheckpoint(dir, { format: 'tfjs', out });
      expect(r.check?.runtime).toMatch(/loadGraphModel/);
      expect(r.check!.maxAbsDiff.h).toBeLessThan(1e-4);
      expect(r.files.map((f) => path.basename(f.path))).toEqual(['model.json', 'weights.bin']);
      const json = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8'));
      expect(json.format).toBe('graph-model');
      expect(json.userDefinedMetadata).toMatchObject({ layout: 'NHWC', input_size: '16x16' });
      expect(Object.keys(json.signature.outputs)).toEqual(['h']);
    }, 120_000);
  }

  itInBrowser(
    "the tfjs export loads in Chromium (tf.loadGraphModel, tfjs's browser bundle, no network) and its h equals selfsup's in Node",
    async () => {
      const dir = await trained('vit');
      const out = path.join(dir, 'tfjs-browser');
      await exportCheckpoint(dir, { format: 'tfjs', out });
      const n = 6;
      const px = Array.from({ length: n * 16 * 16 * 3 }, (_, i) => ((i * 104729) % 1009) / 1009);
      const ours = await selfsupH(dir, Float32Array.from(px), [n, 16, 16, 3]);
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const served: string[] = [];
        // every request is answered from disk: the page, tfjs's bundle, model.json and weights.bin
        await page.route('**/*', async (route) => {
          const url = new URL(route.request().url());
          served.push(url.pathname);
          const files: Record<string, [string, string]> = {
            '/index.html': ['', 'text/html'],
            '/tf.min.js': [TFJS_BUNDLE, 'text/javascript'],
            '/model/model.json': [path.join(out, 'model.json'), 'application/json'],
            '/model/weights.bin': [path.join(out, 'weights.bin'), 'application/octet-stream'],
          };
          const f = files[url.pathname];
          if (!f) return route.fulfill({ status: 404, body: 'not found' });
          if (!f[0]) return route.fulfill({ status: 200, contentType: f[1], body: '<!doctype html><script src="/tf.min.js"></script>' });
          return route.fulfill({ status: 200, contentType: f[1], body: fs.readFileSync(f[0]) });
        });
        await page.goto('http://selfsup.test/index.html');
        const fromBrowser = await page.evaluate(
          async ({ px, n }) => {
            const tfb = (globalThis as unknown as { tf: typeof import('@tensorflow/tfjs') }).tf;
            await tfb.setBackend('cpu');
            const model = await tfb.loadGraphModel('/model/model.json');
            const h = model.execute(tfb.tensor4d(px, [n, 16, 16, 3]), 'h') as import('@tensorflow/tfjs').Tensor;
            return { h: Array.from(await h.data()), shape: h.shape, backend: tfb.getBackend() };
          },
          { px, n },
        );
        expect(served).toEqual(expect.arrayContaining(['/index.html', '/tf.min.js', '/model/model.json', '/model/weights.bin']));
        expect(fromBrowser.backend).toBe('cpu');
        expect(fromBrowser.shape).toEqual([n, 32]);
        let max = 0;
        fromBrowser.h.forEach((v, i) => (max = Math.max(max, Math.abs(v - ours[i]))));
        expect(max).toBeLessThan(1e-4);
      } finally {
        await browser.close();
      }
    },
    120_000,
  );
});
