import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { afterAll, describe, expect, it } from 'vitest';
import { createRegistry, definePlugin, readCheckpoint, runExperiment, tf } from '../../../cli/api.js';
import { guardSyncReads } from '../../../plugins/backends/sync-read-guard.js';
import { tinyDino } from '../../plugins/dino-fixture.js';
import { registerDeviceReads } from '../../plugins/backends/device-reads.js';
import { tinySimclr } from '../../helpers.js';

/**
 * Every read the trainer makes is asynchronous: on a backend whose synchronous reads of data on the
 * device return zeros (as WebGPU's do in headless Chromium), guarded as the WebGPU backends are
 * (guardSyncReads) so that any synchronous read of device data throws, whole runs (steps, optimizers, queues, schedules, the evaluators, the
 * checkpoint) give exactly what the cpu backend gives: same kernels, so the same numbers.
 */
registerDeviceReads('device-reads');
const registry = createRegistry();
registry.register(
  definePlugin({
    kind: 'backend',
    name: 'device-reads',
    description: 'cpu kernels; synchronous reads of device data refused (a test stand-in for WebGPU in a browser)',
    options: Type.Object({}),
    create: () => ({
      priority: 0,
      probe: async () => ({ ok: true as const }),
      async init() {
        await tf.setBackend('device-reads');
        guardSyncReads('device-reads');
        return { name: 'device-reads' };
      },
    }),
  }),
);

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-async-reads-'));
const evaluators = [
  { type: 'knn', k: 5 },
  { type: 'linear-probe', epochs: 2, batchSize: 32 },
];
const oneEpoch = { epochs: 2, batchSize: 16, checkpointEvery: 1 };

const cases: Array<[string, Record<string, unknown>]> = [
  [
    'SimCLR, AdamW, gradient clipping, kNN and linear probe',
    tinySimclr({
      optimizer: { type: 'adamw', lr: 1e-3, weightDecay: 0.05 },
      train: { ...oneEpoch, clipGradNorm: 0.5 },
      eval: { every: 1, monitor: [{ type: 'knn', k: 5 }], final: evaluators },
    }),
  ],
  [
    'MoCo: a momentum target and a momentum queue (its write pointer read back)',
    tinySimclr({
      target: { type: 'momentum', momentum: 0.9 },
      negatives: { type: 'momentum-queue', size: 24 },
      loss: { type: 'info-nce', temperature: 0.2, symmetric: true },
      train: oneEpoch,
      eval: { every: 0, monitor: [], final: [{ type: 'knn', k: 5 }] },
    }),
  ],
  [
    'MAE: token masks, the decoder restoring the order on the device, Adam, a fine-tune',
    tinySimclr({
      encoder: { type: 'vit', patchSize: 4, dim: 8, depth: 1, heads: 2 },
      augmenter: { type: 'mask-patches', ratio: 0.75, patchSize: 4, pipeline: [{ type: 'horizontal-flip' }] },
      head: { type: 'mae-decoder', dim: 8, depth: 1, heads: 2 },
      target: { type: 'none' },
      negatives: { type: 'none' },
      loss: { type: 'mae' },
      optimizer: { type: 'adamw', lr: 1e-3, beta2: 0.95, weightDecay: 0.05 },
      train: oneEpoch,
      eval: { every: 0, monitor: [], final: [{ type: 'fine-tune', epochs: 1, batchSize: 32 }] },
    }),
  ],
  [
    'DINO: multi-crop, a centred teacher, a frozen last layer, scheduled weight decay',
    tinyDino({ train: { ...oneEpoch, clipGradNorm: 3 }, eval: { every: 0, monitor: [], final: [{ type: 'knn', k: 5 }] } }),
  ],
];

describe('training with asynchronous reads only', () => {
  const before = tf.getBackend();
  afterAll(async () => {
    await tf.setBackend(before ?? 'cpu');
  });

  it.each(cases)(
    '%s: the same losses, metrics and checkpoint as on cpu',
    async (_name, config) => {
      const run = async (backend: string) => {
        const outDir = tmp();
        const r = await runExperiment(config, { registry, backend, outDir, log: () => {} });
        return { r, checkpoint: readCheckpoint(outDir) };
      };
      const cpu = await run('cpu');
      const dev = await run('device-reads');
      expect(dev.r.backend).toBe('device-reads');
      expect(dev.r.steps).toBe(8);
      expect(dev.r.losses).toEqual(cpu.r.losses);
      expect(dev.r.losses.every(([, l]) => Number.isFinite(l) && l !== 0)).toBe(true);
      expect(dev.r.history).toEqual(cpu.r.history);
      expect(Object.keys(dev.r.eval).length).toBeGreaterThan(0);
      expect(dev.r.eval).toEqual(cpu.r.eval);
      expect(dev.checkpoint.meta.tensors).toEqual(cpu.checkpoint.meta.tensors);
      expect(Buffer.from(dev.checkpoint.values.buffer).equals(Buffer.from(cpu.checkpoint.values.buffer))).toBe(true);
    },
    120_000,
  );
});
