import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../cli/api.js';

// The CLI as users run it: the built bin (npm test builds first).
const BIN = path.resolve('dist/cli/main.js');
const selfsup = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-cli-'));
const writeJson = (obj: unknown) => {
  const f = path.join(tmp(), 'config.json');
  fs.writeFileSync(f, JSON.stringify(obj));
  return f;
};
const TINY = [
  '--set',
  'data.trainLimit=512',
  '--set',
  'data.testLimit=200',
  '--set',
  'train.epochs=1',
  '--set',
  'train.batchSize=64',
  '--set',
  'encoder.widths=[8,16]',
  '--set',
  'eval.final=[{"type":"knn","k":20}]',
  '--set',
  'backend=wasm',
];

describe('selfsup CLI', () => {
  it('bad configs: one line per problem with its JSON path and hint, exit 2, no stack trace', () => {
    const f = writeJson({
      extends: 'simclr',
      loss: { type: 'info-nc' },
      head: { type: 'mlp', hiddenDimm: 3 },
      optimizer: { type: 'adam', lr: -1 },
      data: { type: 'fashion-mnist', dir: '/nope' },
    });
    const r = selfsup('validate', f);
    expect(r.code).toBe(2);
    const lines = r.err.trim().split('\n');
    expect(lines[0]).toBe(`error: invalid config in ${f}:`);
    expect(lines).toEqual(
      expect.arrayContaining([
        "  /loss/type: unknown loss 'info-nc' (did you mean 'info-nce'?)",
        "  /head/hiddenDimm: unknown key 'hiddenDimm' (did you mean 'hiddenDim'?)",
        '  /optimizer/lr: must be > 0, got -1',
        expect.stringMatching(/^ {2}\/data\/dir: dir not found: \/nope/),
      ]),
    );
    expect(r.err).not.toMatch(/at .*\.js:\d+/);
    expect(selfsup('validate', f, '--verbose').code).toBe(2);
  });

  it('invalid JSON, unknown preset and a bad --set are config errors too', () => {
    const f = path.join(tmp(), 'broken.json');
    fs.writeFileSync(f, '{ "extends": "simclr", ');
    const a = selfsup('validate', f);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/not valid JSON/);
    const b = selfsup('train', '--preset', 'simclear');
    expect(b.code).toBe(2);
    expect(b.err).toMatch(
      /no preset or file named 'simclear' \(did you mean 'simclr'\? presets: barlow-twins, byol, colorization, dino, inpainting, mae, moco-v1, moco-v2, moco-v3-vit, moco-v3, npid, rotation, simclr-rotation, simclr, simsiam, swav, vicreg\)/,
    );
    const c = selfsup('validate', 'simclr', '--set', 'train.epochs=many');
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/\/train\/epochs: --set train.epochs: expected an integer, got 'many'|expected a number, got 'many'/);
  });

  it('train --json ends stdout with one JSON object; eval --checkpoint re-scores the saved encoder, and its random weights where eval.baseline is on', () => {
    const out = tmp();
    const r = selfsup('train', '--preset', 'simclr', ...TINY, '--set', 'eval.baseline=true', '--out', out, '--json');
    expect(r.code, r.err).toBe(0);
    const last = JSON.parse(r.out.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ preset: 'simclr', backend: 'wasm', steps: 8 });
    expect(last.eval.knn_top1).toBeGreaterThan(0.3); // 10 classes: chance is 0.1
    expect(r.err).toMatch(/backend: wasm/);
    expect(r.err).toMatch(/epoch 1: loss/);
    const e = selfsup('eval', '--checkpoint', out, '--json');
    expect(e.code, e.err).toBe(0);
    const ev = JSON.parse(e.out.trim().split('\n').at(-1)!);
    expect(ev.eval.knn_top1).toBe(last.eval.knn_top1); // same weights, same features
    // the baseline is rebuilt from the checkpoint's config and seed: the run's own initial weights
    expect(last.eval.random_knn_top1).toBeGreaterThan(0);
    expect(last.eval.random_knn_top1).not.toBe(last.eval.knn_top1);
    expect(ev.eval.random_knn_top1).toBe(last.eval.random_knn_top1);
    const off = JSON.parse(selfsup('eval', '--checkpoint', out, '--set', 'eval.baseline=false', '--json').out.trim().split('\n').at(-1)!);
    expect(off.eval.knn_top1).toBe(last.eval.knn_top1);
    expect(off.eval.random_knn_top1).toBeUndefined();
  });

  it('the README plugin example (test/fixtures) registers and runs inside a preset', () => {
    const readme = fs.readFileSync('README.md', 'utf8');
    expect(readme).toContain(fs.readFileSync('test/fixtures/cutout-plugin.mjs', 'utf8').trim());
    expect(readme).toContain(fs.readFileSync('test/fixtures/simclr-cutout.json', 'utf8').trim());
    const list = JSON.parse(selfsup('plugins', '--json', '--plugin', 'test/fixtures/cutout-plugin.mjs').out);
    expect(list).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'augmenter', name: 'cutout', options: ['size', 'p'] })]));
    const r = selfsup('train', '--preset', 'test/fixtures/simclr-cutout.json', ...TINY, '--set', 'train.maxSteps=2', '--out', tmp(), '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out.trim().split('\n').at(-1)!).steps).toBe(2);
    const v = JSON.parse(selfsup('validate', 'test/fixtures/simclr-cutout.json', '--json', '--load-plugins').out);
    expect(v.config.tasks.main.augmenter.pipeline[2]).toEqual({ type: 'cutout', size: 0.3, p: 0.5 });
    // its options are validated like a built-in's (with --load-plugins; without, the module is not imported)
    const bad = selfsup('validate', 'test/fixtures/simclr-cutout.json', '--load-plugins', '--set', 'augmenter.pipeline.2.size=2');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/\/augmenter\/pipeline\/2\/size: must be <= 1, got 2/);
  });

  it('a named backend that is not installed is refused with the reason and exit 2', () => {
    const r = selfsup('train', '--preset', 'simclr', '--backend', 'tensorflow');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /backend 'tensorflow' is not available here: tensorflow: @tensorflow\/tfjs-node-gpu not installed, @tensorflow\/tfjs-node not installed/,
    );
    const w = selfsup('train', '--preset', 'simclr', '--backend', 'webgpu');
    expect(w.code).toBe(2);
    expect(w.err).toMatch(/backend 'webgpu' is not available here: webgpu: webgpu not installed/);
  });

  it('bench times the step in its own process: median, views/s, flat tensor count, and a kernel profile', () => {
    const r = selfsup('bench', '--cases', 'simclr-smallcnn', '--batch', '8', '--steps', '3', '--warmup', '1', '--backend', 'wasm', '--profile', '--json');
    expect(r.code, r.err).toBe(0);
    const { results } = JSON.parse(r.out.trim().split('\n').pop()!);
    expect(results).toHaveLength(1);
    const b = results[0];
    expect(b).toMatchObject({ case: 'simclr-smallcnn', batch: 8, views: 16, backend: 'wasm' });
    expect(b.stepsMs).toHaveLength(4);
    expect(b.medianMs).toBeGreaterThan(0);
    expect(b.viewsPerSecond).toBeCloseTo((1000 * 16) / b.medianMs, 6);
    expect(b.tensors[0]).toBe(b.tensors[1]);
    expect(b.peakRssMiB).toBeGreaterThan(50);
    const names = b.kernels.map((k: { name: string }) => k.name);
    expect(names).toEqual(expect.arrayContaining(['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput']));
    const bad = selfsup('bench', '--cases', 'simclr-tiny');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(
      /unknown case 'simclr-tiny' \(cases: simclr-smallcnn, moco-smallcnn, moco-v2-preset-smallcnn, simclr-resnet18, moco-resnet18, simclr-vit-tiny, mae-vit-tiny\)/,
    );
  });

  it('plugins, presets and schema list what is registered', () => {
    const plugins = JSON.parse(selfsup('plugins', '--json').out) as Array<{ kind: string; name: string }>;
    const losses = plugins.filter((p) => p.kind === 'loss').map((p) => p.name);
    expect(losses.slice(0, 4)).toEqual(['info-nce', 'cross-entropy', 'masked-l2', 'colorization']);
    expect(losses).toEqual(createRegistry().namesOf('loss'));
    const presets = JSON.parse(selfsup('presets', '--json').out) as Array<{ name: string }>;
    expect(presets.map((p) => p.name)).toContain('simclr');
    const schema = JSON.parse(selfsup('schema').out);
    expect(schema.$defs.encoder.oneOf.map((b: { properties: { type: { const: string } } }) => b.properties.type.const)).toEqual(['small-cnn', 'resnet', 'vit']);
  });
});
