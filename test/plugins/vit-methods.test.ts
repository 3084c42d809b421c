import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildRun, createRegistry, resolveExperiment, runExperiment, tf, type Tensor4D } from '../../cli/api.js';
import { clsAttentionRows } from '../../plugins/callbacks/attention-rows.js';
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
    for (let i = 0; i < 3; i++) await step(parts, i);
    for (const [k, v] of snapshot(parts, 'encoder/patch.')) expect(v, k).toEqual(patch0.get(k));
    const after = snapshot(parts, 'encoder/blocks.');
    expect([...blocks0].filter(([k, v]) => v.some((x, i) => x !== after.get(k)![i])).length).toBe(blocks0.size);
  });

  /** the dino preset on 16x16 synthetic images: 2 global crops of 16 px (16 tokens), 2 local of 8 px (4 tokens), a small head */
  const DINO_TINY = [
    ...TINY.map((x) => x.replace('"size":12', '"size":16')).filter((x) => !x.startsWith('head.')),
    'augmenter.crops=[{"count":2,"scale":[0.4,1]},{"count":2,"size":8,"scale":[0.05,0.4]}]',
    'head.hiddenDim=16',
    'head.bottleneckDim=8',
    'head.outDim=32',
    'train={"epochs":2,"batchSize":16,"checkpointEvery":1}',
  ];

  it('dino with a ViT trains on global and local crops, and draws the cls attention of every head per image', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-dino-vit-'));
    const { config } = await resolveExperiment('dino', { registry, sets: DINO_TINY });
    expect(config.encoder.type).toBe('vit');
    const r = await runExperiment(config as unknown as Record<string, unknown>, { outDir: out });
    expect(r.losses.every(([, v]) => Number.isFinite(v))).toBe(true);
    const { default: sharp } = await import('sharp');
    const meta = await sharp(path.join(out, 'pictures', 'attention-epoch-002.png')).metadata();
    // 8 rows (images) of 1 + 2 heads, 16 px at scale 4, 2 px gaps
    expect([meta.width, meta.height]).toEqual([3 * (64 + 2) + 2, 8 * (64 + 2) + 2]);
  });

  it('dino with a ResNet by changing the encoder only', async () => {
    const { config } = await resolveExperiment('dino', {
      registry,
      sets: [...DINO_TINY, 'encoder={"type":"resnet","depth":18,"widthMultiplier":0.125}', 'callbacks=[]', 'backend=wasm'],
    });
    const r = await runExperiment(config as unknown as Record<string, unknown>, {});
    expect(r.losses.length).toBe(8);
    expect(r.losses.every(([, v]) => Number.isFinite(v))).toBe(true);
  });

  it('the attention picture: the map of each head is its cls-to-patch attention on the grid, scaled to [0, 1]', () => {
    // 1 image 4x4 px, 2x2 patches of 2 px, 2 heads: head 0 looks at patch 3, head 1 at patch 0
    const attn = new Float32Array(1 * 2 * 5 * 5).fill(0.1);
    attn.set([0, 0.1, 0.1, 0.1, 0.7], 0); // head 0, row of cls
    attn.set([0, 0.7, 0.1, 0.1, 0.1], 25); // head 1, row of cls
    const rows = clsAttentionRows(tf.ones([1, 4, 4, 1]) as Tensor4D, tf.tensor4d(attn, [1, 2, 5, 5]));
    expect(rows).toHaveLength(1);
    expect(rows[0].shape).toEqual([3, 4, 4, 1]);
    const v = rows[0].arraySync() as number[][][][];
    expect(v[1][3][3][0]).toBe(1); // head 0: bottom-right patch, upsampled to its 2x2 pixels
    expect(v[1][2][2][0]).toBe(1);
    expect(v[1][0][0][0]).toBe(0);
    expect(v[2][0][1][0]).toBe(1); // head 1: top-left patch
    expect(v[2][3][3][0]).toBe(0);
  });
});
