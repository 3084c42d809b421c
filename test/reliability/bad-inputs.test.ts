import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  DataError,
  EnvironmentError,
  ParamStore,
  PluginError,
  Type,
  createRegistry,
  definePlugin,
  readCheckpoint,
  runExperiment,
  tf,
  type PluginDefinition,
} from '../../cli/api.js';
import { planSweep } from '../../cli/sweep-api.js';
import { builtinPresets } from '../../cli/api.js';
import { acquireLock } from '../../core/util/lock.js';
import { makeDirs } from '../../core/util/make-dirs.js';
import { fingerprint, tinySimclr, useBackend } from '../helpers.js';

// cases of bench/bad-inputs.ts that were handled poorly, each with the fix's sentence and exit code
const BIN = path.resolve('dist/cli/main.js');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-bad-'));
const tiny = (extra: Record<string, unknown> = {}) => tinySimclr({ train: { epochs: 1, batchSize: 16, checkpointEvery: 1 }, ...extra });
const selfsup = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, err: r.stderr };
};
/** run with one plugin registered; the error it ends with */
const failWith = async (def: PluginDefinition, cfg: Record<string, unknown>, outDir?: string) =>
  runExperiment(tiny(cfg), { registry: createRegistry().register(def as never), outDir }).catch((e) => e);
const plugin = (kind: string, name: string, create: () => unknown) =>
  definePlugin({ kind: kind as 'loss', name, description: 'test', options: Type.Object({}), create: create as never });

describe("a plugin's broken contract is named as the plugin's error (exit 6), not an internal error", () => {
  beforeAll(() => useBackend('cpu'));

  it('create() that returns nothing', async () => {
    const err = await failWith(
      plugin('loss', 'empty', () => undefined),
      { loss: { type: 'empty' } },
    );
    expect(err).toBeInstanceOf(PluginError);
    expect(err.message).toBe("loss 'empty' at /loss: create() returned undefined, not an object");
  });

  it('a loss that returns a vector or a number, and a viewsRead naming a view that does not exist', async () => {
    const vec = plugin('loss', 'vec', () => ({ compute: ({ online }: { online: Array<{ z: tf.Tensor }> }) => tf.sum(online[0].z, 1) }));
    const dir = path.join(tmp(), 'run');
    const err = await failWith(vec, { loss: { type: 'vec' } }, dir);
    expect(err).toBeInstanceOf(PluginError);
    expect(err.message).toBe("loss 'vec' at /loss: compute() must return a scalar tensor, or { loss, terms } (got a tensor of shape [16])");
    expect(fs.existsSync(dir)).toBe(false);
    const num = await failWith(
      plugin('loss', 'num', () => ({ compute: () => 1.5 })),
      { loss: { type: 'num' } },
    );
    expect(num.message).toMatch(/^loss 'num' at \/loss: compute\(\) must return a scalar tensor, or \{ loss, terms \} \(got 1\.5\)/);
    const v5 = await failWith(
      plugin('loss', 'v5', () => ({
        viewsRead: () => ({ online: [5], target: [] }),
        compute: ({ online }: { online: Array<{ z: tf.Tensor }> }) => tf.mean(online[0].z),
      })),
      { loss: { type: 'v5' } },
    );
    expect(v5).toBeInstanceOf(PluginError);
    expect(v5.message).toBe("loss 'v5' at /loss: viewsRead(2) names view 5, but there are 2 views (0 to 1)");
  });

  it('an encoder or head whose forward throws, an encoder whose h is not dim wide, an afterStep that throws', async () => {
    const crash = plugin('encoder', 'crash', () => ({
      params: new ParamStore('crash'),
      dim: 3,
      forward: () => {
        throw new Error('kernel missing');
      },
    }));
    const e1 = await failWith(crash, { encoder: { type: 'crash' } });
    expect(e1).toBeInstanceOf(PluginError);
    expect(e1.message).toBe("encoder 'crash' at /encoder: kernel missing");
    expect(String(e1.cause?.stack)).toMatch(/bad-inputs\.test\.ts/);
    const wide = plugin('encoder', 'wide', () => ({
      params: new ParamStore('wide'),
      dim: 3,
      forward: (x: tf.Tensor) => ({ h: tf.ones([x.shape[0], 5]), map: tf.ones([x.shape[0], 2, 2, 5]) }),
    }));
    expect((await failWith(wide, { encoder: { type: 'wide' } })).message).toBe(
      "encoder 'wide' at /encoder does not keep the Encoder contract: forward() returned h of width 5, but the encoder's dim says 3",
    );
    const head = plugin('head', 'crash', () => ({
      params: new ParamStore('crash'),
      dim: 3,
      forward: () => {
        throw new Error('shape mismatch');
      },
    }));
    expect((await failWith(head, { head: { type: 'crash' } })).message).toBe("head 'crash' at /head: shape mismatch");
    const after = plugin('loss', 'after', () => ({
      compute: ({ online }: { online: Array<{ z: tf.Tensor }> }) => tf.mean(online[0].z),
      afterStep: () => {
        throw new Error('after failed');
      },
    }));
    const e4 = await failWith(after, { loss: { type: 'after' } });
    expect(e4).toBeInstanceOf(PluginError);
    expect(e4.message).toBe("loss 'after' at /loss: after failed");
  });

  it('an augmenter that returns no views, or views of another batch size or rank', async () => {
    const none = plugin('augmenter', 'none', () => ({ apply: () => ({ views: [] }) }));
    expect((await failWith(none, { augmenter: { type: 'none' } })).message).toBe(
      "augmenter 'none' at /augmenter: apply() must return { views } with at least one view (got none)",
    );
    const half = plugin('augmenter', 'half', () => ({ apply: (x: tf.Tensor4D) => ({ views: [tf.slice(x, 0, 8), x] }) }));
    const e = await failWith(half, { augmenter: { type: 'half' } });
    expect(e).toBeInstanceOf(PluginError);
    expect(e.message).toBe("augmenter 'half' at /augmenter: apply() view 0 must be a [N, H, W, C] tensor with the batch's N = 16 (got [8,12,12,1])");
  });
});

describe('damaged checkpoints and data name the file and the field', () => {
  beforeAll(() => useBackend('cpu'));

  it('a checkpoint.json whose step or config is not one, and a weight file that is a directory, are DataErrors; nothing is written', async () => {
    const dir = tmp();
    await runExperiment(tiny({ train: { epochs: 1, batchSize: 16, checkpointEvery: 1, maxSteps: 2 } }), { outDir: dir });
    const json = path.join(dir, 'checkpoint.json');
    const good = fs.readFileSync(json, 'utf8');
    fs.writeFileSync(json, JSON.stringify({ ...JSON.parse(good), step: 'x' }));
    const before = fingerprint(dir);
    const err = await runExperiment('', { resume: dir, sets: ['train.maxSteps=100'] }).catch((e) => e);
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toMatch(/checkpoint\.json is damaged: its 'step' is "x": the run cannot be resumed/);
    expect(fingerprint(dir)).toEqual(before);
    const { config: _c, ...noConfig } = JSON.parse(good);
    fs.writeFileSync(json, JSON.stringify(noConfig));
    expect(() => readCheckpoint(dir)).toThrow(/checkpoint\.json is damaged: its 'config' is missing/);
    fs.writeFileSync(json, good);
    fs.rmSync(path.join(dir, 'weights-2.bin'));
    fs.mkdirSync(path.join(dir, 'weights-2.bin'));
    expect(() => readCheckpoint(dir)).toThrow(/the weight file .*weights-2\.bin cannot be read \(EISDIR/);
  });

  it('resuming with a --set that changes the model is a config error naming the --set', async () => {
    const dir = tmp();
    await runExperiment(tiny({ train: { epochs: 1, batchSize: 16, checkpointEvery: 1, maxSteps: 2 } }), { outDir: dir });
    const before = fingerprint(dir);
    const err = await runExperiment('', { resume: dir, sets: ['train.maxSteps=100', 'encoder.widths=[8,8]'] }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/--set train\.maxSteps=100 --set encoder\.widths=\[8,8\] changed the model of the run in .*: checkpoint does not match/);
    expect(fingerprint(dir)).toEqual(before);
  });

  it('fashion-mnist: a label out of range, or an image file where the labels go', async () => {
    const idx = (magic: number, dims: number[], body: Buffer) => {
      const head = Buffer.alloc(4 + 4 * dims.length);
      head.writeUInt32BE(magic, 0);
      dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
      return zlib.gzipSync(Buffer.concat([head, body]));
    };
    const dir = tmp();
    const images = idx(0x803, [8, 28, 28], Buffer.alloc(8 * 784, 7));
    for (const s of ['train', 't10k']) {
      fs.writeFileSync(path.join(dir, `${s}-images-idx3-ubyte.gz`), images);
      fs.writeFileSync(path.join(dir, `${s}-labels-idx1-ubyte.gz`), idx(0x801, [8], Buffer.alloc(8, 12)));
    }
    const run = () => runExperiment(tiny({ data: { type: 'fashion-mnist', dir }, train: { epochs: 1, batchSize: 4 } })).catch((e) => e);
    const e1 = await run();
    expect(e1).toBeInstanceOf(DataError);
    expect(e1.message).toMatch(/^train-labels-idx1-ubyte\.gz in .*: label 12 at index 0 is not one of the 10 classes \(0 to 9\)/);
    fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte.gz'), images);
    expect((await run()).message).toMatch(/^train-labels-idx1-ubyte\.gz in .*: expected N labels, got 8 x 28 x 28 \(an image file\?\)/);
  });

  it('image-folder: a test class the training split lacks is refused, not dropped', async () => {
    const root = tmp();
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 10, g: 20, b: 30 } } })
      .png()
      .toBuffer();
    for (const [split, c] of [
      ['train', 'cat'],
      ['train', 'dog'],
      ['test', 'cat'],
      ['test', 'bird'],
    ]) {
      fs.mkdirSync(path.join(root, split, c), { recursive: true });
      fs.writeFileSync(path.join(root, split, c, 'a.png'), png);
    }
    const err = await runExperiment(tiny({ data: { type: 'image-folder', root, size: 8 }, train: { epochs: 1, batchSize: 2 } })).catch((e) => e);
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toMatch(/class folder .*test\/bird of the test split has no training class of that name \(training classes: cat, dog\)/);
  });
});

describe('the machine and the command line', () => {
  it('a live lock is an environment error (exit 5), and a lock is released when the process exits', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'run.lock'), String(process.ppid));
    let err: unknown;
    try {
      acquireLock(dir, 'run.lock', 'training run');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as EnvironmentError).exitCode).toBe(5);
    // a sweep that fails on its damaged store exits 4 and leaves no sweep.lock behind
    const sw = tmp();
    fs.writeFileSync(path.join(sw, 'sweep.db'), 'this is not a database, just text that is long enough to be read as a header..........');
    const r = selfsup(['sweep', 'temperature', '--out', sw]);
    expect(r.code, r.err).toBe(4);
    expect(fs.readdirSync(sw)).toEqual(['sweep.db']);
  });

  it('makeDirs reports a read-only file system as EROFS, not ENOENT (where a tmpfs can be mounted)', () => {
    const at = tmp();
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,ro', 'tmpfs', at], { encoding: 'utf8' });
    if (m.status !== 0) {
      console.log(`read-only case skipped: cannot mount a tmpfs here (${(m.stderr || m.error?.message || '').trim()})`);
      return;
    }
    try {
      expect(() => makeDirs(path.join(at, 'a', 'b'))).toThrow(expect.objectContaining({ code: 'EROFS' }));
    } finally {
      spawnSync('umount', [at]);
    }
  });

  it('a sweep cannot set plugins, which would be ignored', async () => {
    await expect(planSweep({ extends: 'simclr', set: { plugins: ['./x.mjs'] } }, { registry: createRegistry(), presets: builtinPresets() })).rejects.toThrow(
      /a sweep cannot set 'plugins': plugin modules are loaded from the base config/,
    );
  });

  it('the CLI refuses what it would ignore: a preset with --resume, --force without --out, --workers 0, SELFSUP_WASM_THREADS=abc', () => {
    const cases: Array<[string[], RegExp, Record<string, string>?]> = [
      [['train', 'moco-v1', '--resume', 'somewhere'], /--resume continues the run in somewhere with its own config; 'moco-v1' would be ignored/],
      [['train', '--preset', 'simclr', '--force'], /--force applies to --out DIR/],
      [['train', '--preset', ''], /the preset name is empty/],
      [['sweep', 'temperature', '--workers', '0'], /--workers must be a whole number of processes, 1 or more \(got '0'\)/],
      [
        ['train', '--preset', 'simclr', '--backend', 'wasm', '--set', 'train.epochs=1'],
        /SELFSUP_WASM_THREADS='abc' is not a number of threads/,
        { SELFSUP_WASM_THREADS: 'abc' },
      ],
    ];
    for (const [args, message, env] of cases) {
      const r = selfsup(args, env);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/internal error|\n\s+at /);
    }
  });
});
