import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParamStore, PluginError, TrainingError, Type, createRegistry, definePlugin, runExperiment, tf, type PluginRegistry } from '../../cli/api.js';
import { tinySimclr, useBackend } from '../helpers.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-plugerr-'));
const tiny = (extra: Record<string, unknown>) => tinySimclr({ train: { epochs: 1, batchSize: 16, checkpointEvery: 1 }, ...extra });
const run = async (cfg: Record<string, unknown>, registry: PluginRegistry, outDir?: string) => runExperiment(cfg, { registry, outDir }).catch((e) => e);

describe("a plugin's own error is named as the plugin's (exit 6), and a failed new run leaves no directory", () => {
  beforeAll(() => useBackend('cpu'));

  it("an error thrown in a target's attach() names the target, with the plugin's stack kept as the cause", async () => {
    const broken = definePlugin({
      kind: 'target',
      name: 'broken-target',
      description: 'throws in attach (test)',
      options: Type.Object({}),
      create: () => ({
        attach: async () => {
          throw new Error('copy failed: no GPU memory');
        },
        outputs: () => undefined,
      }),
    });
    const err = await run(tiny({ target: { type: 'broken-target' }, negatives: { type: 'none' } }), createRegistry().register(broken));
    expect(err).toBeInstanceOf(PluginError);
    expect(err.exitCode).toBe(6);
    expect(err.message).toBe("target 'broken-target' at /target failed in attach(): copy failed: no GPU memory");
    expect(String(err.cause?.stack)).toMatch(/plugin-errors\.test\.ts/);
  });

  it("a loss that throws during the step is the loss's error, and the new run's directory is removed", async () => {
    const throwing = definePlugin({
      kind: 'loss',
      name: 'throwing-loss',
      description: 'throws in compute (test)',
      options: Type.Object({}),
      create: () => ({
        compute: () => {
          throw new TypeError("Cannot read properties of undefined (reading 'shape')");
        },
      }),
    });
    const dir = path.join(tmp(), 'run');
    const err = await run(tiny({ loss: { type: 'throwing-loss' } }), createRegistry().register(throwing), dir);
    expect(err).toBeInstanceOf(PluginError);
    expect(err.message).toBe("loss 'throwing-loss' at /loss: Cannot read properties of undefined (reading 'shape')");
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('an encoder that returns no map says which part of the contract it misses', async () => {
    const noMap = definePlugin({
      kind: 'encoder',
      name: 'no-map',
      description: 'returns only h (test)',
      options: Type.Object({}),
      create: () => ({ params: new ParamStore('no-map'), dim: 3, forward: (x: tf.Tensor) => ({ h: tf.ones([x.shape[0], 3]) }) as never }),
    });
    const err = await run(tiny({ encoder: { type: 'no-map' } }), createRegistry().register(noMap));
    expect(err).toBeInstanceOf(PluginError);
    expect(err.message).toMatch(
      /encoder 'no-map' at \/encoder does not keep the Encoder contract: forward\(\) must return map, the last \[N, h, w, C\] feature map \(got undefined\)/,
    );
  });

  it('a NaN loss at the first step names the loss and does not blame the learning rate', async () => {
    const nan = definePlugin({
      kind: 'loss',
      name: 'nan-loss',
      description: 'NaN (test)',
      options: Type.Object({}),
      create: () => ({ compute: ({ online }) => tf.mul(tf.sum(online[0].z), NaN) as tf.Scalar }),
    });
    const dir = path.join(tmp(), 'run');
    const err = await run(tiny({ loss: { type: 'nan-loss' } }), createRegistry().register(nan), dir);
    expect(err).toBeInstanceOf(TrainingError);
    expect(err.message).toBe(
      'the loss became NaN at the first step, before any update, so not through the learning rate: check the loss nan-loss (at /loss), its options, and the data',
    );
    expect(fs.existsSync(dir)).toBe(false);
  });
});
