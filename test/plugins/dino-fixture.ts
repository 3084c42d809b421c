import fs from 'node:fs';
import { tinySimclr } from '../helpers.js';

/** The shipped preset, as JSON (its paramGroups are what the tests train with). */
export const dinoPreset = JSON.parse(fs.readFileSync(new URL('../../presets/dino.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/**
 * A tiny DINO: synthetic 12x12 images, 2 global crops + 2 local 6 px crops, the dino head and loss,
 * a momentum teacher, no negatives, AdamW, clipping, and the preset's parameter groups (the last
 * layer frozen for the first epoch). 64 images, batches of 16: 4 steps per epoch, 3 epochs.
 */
export const tinyDino = (extra: Record<string, unknown> = {}) =>
  tinySimclr({
    augmenter: {
      type: 'multi-crop',
      crops: [
        { count: 2, scale: [0.4, 1] },
        { count: 2, size: 6, scale: [0.1, 0.4] },
      ],
      pipeline: [{ type: 'horizontal-flip' }, { type: 'color-jitter' }],
    },
    head: { type: 'dino', hiddenDim: 8, bottleneckDim: 4, outDim: 16 },
    target: { type: 'momentum', momentum: 0.9 },
    negatives: { type: 'none' },
    loss: { type: 'dino', warmupTeacherTempEpochs: 1 },
    optimizer: { type: 'adamw', lr: 0.01, weightDecay: 0.04 },
    schedules: { 'optimizer.weightDecay': { to: 0.4, schedule: { type: 'cosine' } } },
    paramGroups: dinoPreset.paramGroups,
    train: { epochs: 3, batchSize: 16, checkpointEvery: 1, clipGradNorm: 3 },
    ...extra,
  });
