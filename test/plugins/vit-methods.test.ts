import { beforeAll, describe, expect, it } from 'vitest';
import { buildRun, createRegistry, resolveExperiment, runExperiment } from '../../cli/api.js';
import { snapshot, step } from '../core/train/fixtures.js';
import { tinySimclr, useBackend } from '../helpers.js';

const registry = createRegistry();
/** a 1-block ViT small enough for unit tests, on the 12x12 synthetic images (patch 4: 9 tokens) */
const tinyVit = { type: 'vit', patchSize: 4, dim: 8, depth: 1, heads: 2 };
const TINY = [
  'data={"type":"synthetic","train":64,"test":32,"size":12,"classes":4}',
  `encoder=${JSON.stringify(tinyVit)}`,
  'head.hiddenDim=8',
  'head.outDim=8',
  'train={"epochs":1,"batchSize":16,"checkpointEvery":1}',
  'eval={"every":0,"monitor":[],"final":[{"type":"knn"}],"baseline":false}',
  'backend=cpu',
];

describe('methods with a ViT by changing the encoder only', () => {
  beforeAll(() => useBackend('cpu', registry));

  it('simclr with encoder vit trains and evaluates', async () => {
    const r = await runExperiment(tinySimclr({ encoder: tinyVit, eval: { every: 0, monitor: [], final: [{ type: 'knn' }] } }), {});
    expect(r.losses.length).toBe(12);
    expect(r.losses.every(([, v]) => Number.isFinite(v))).toBe(true);
    expect(r.eval.knn_top1).toBeGreaterThan(0);
  });

  it('moco-v3-vit: the patch embedding stays at its random initial values (a parameter group), everything else trains', async () => {
    const { config } = await resolveExperiment('moco-v3-vit', { registry, sets: [...TINY, 'predictor.hiddenDim=8', 'predictor.outDim=8'] });
    expect(config.encoder.type).toBe('vit');
    const parts = await buildRun(config, { registry });
    const patch0 = snapshot(parts, 'encoder/patch.');
    const blocks0 = snapshot(parts, 'encoder/blocks.');
    expect(patch0.size).toBe(2);
    for (let i = 0; i < 3; i++) step(parts, i);
    for (const [k, v] of snapshot(parts, 'encoder/patch.')) expect(v, k).toEqual(patch0.get(k));
    const after = snapshot(parts, 'encoder/blocks.');
    expect([...blocks0].filter(([k, v]) => v.some((x, i) => x !== after.get(k)![i])).length).toBe(blocks0.size);
  });
});
