import { beforeAll, describe, expect, it } from 'vitest';
import { bicubicMatrix, createRegistry, interpolationMatrix, tf, type Tensor2D, type Tensor4D } from '../../../cli/api.js';
import { makeEncoder, maxAbsDiff, randn, useBackend } from '../../helpers.js';

const registry = createRegistry();
const make = (ref: { type: string; [k: string]: unknown }, side = 32, channels = 3) => makeEncoder(registry, ref, side, channels);
const small = { type: 'vit', patchSize: 4, dim: 16, depth: 2, heads: 2 };

describe('vit encoder', () => {
  beforeAll(() => useBackend('cpu', registry));

  it('ViT-tiny, patch 4, 32x32x3: 5,360,832 parameters, the count of the same model in PyTorch', async () => {
    // PyTorch (../shared/bench/peer_simclr_step.py's ViT without its projector): patch Linear(48, 192)
    // 9,408 + cls 192 + pos 65x192 12,480 + 12 x TransformerEncoderLayer(192, 3, 768) 444,864 + final LayerNorm 384
    const e = await make({ type: 'vit', size: 'tiny', patchSize: 4 });
    expect(e.params.count()).toBe(9408 + 192 + 65 * 192 + 12 * 444_864 + 384);
    expect(e.params.count()).toBe(5_360_832);
    expect(e.dim).toBe(192);
    const s = await make({ type: 'vit', size: 'small', patchSize: 4 });
    expect(s.dim).toBe(384);
  });

  it('outputs: h [N, D], tokens [N, 1+T, D], the last attention [N, heads, 1+T, 1+T] with rows summing to 1, map as the patch grid', async () => {
    const e = await make(small, 16);
    const out = e.forward(tf.tensor4d(randn([2, 16, 16, 3], 1), [2, 16, 16, 3]), false);
    expect(out.h.shape).toEqual([2, 16]);
    expect(out.tokens.shape).toEqual([2, 17, 16]);
    expect(out.attention.shape).toEqual([2, 2, 17, 17]);
    const rows = tf.sum(out.attention, -1).dataSync();
    expect(maxAbsDiff(rows, new Float32Array(rows.length).fill(1))).toBeLessThan(1e-5);
    expect(out.map.shape).toEqual([2, 4, 4, 16]);
    // h is the cls token, the first of the normalised tokens
    expect(maxAbsDiff(out.h.dataSync(), tf.slice(out.tokens, [0, 0, 0], [2, 1, 16]).dataSync())).toBe(0);
  });

  it('crops of another size work through interpolated positions (DINO local crops): 8x8 input to a 16x16 model', async () => {
    const e = await make(small, 16);
    const out = e.forward(tf.tensor4d(randn([3, 8, 8, 3], 2), [3, 8, 8, 3]), false);
    expect(out.h.shape).toEqual([3, 16]);
    expect(out.tokens.shape).toEqual([3, 5, 16]);
    expect(out.map.shape).toEqual([3, 2, 2, 16]);
  });

  it('the bicubic interpolation: identity at the same size, rows sum to 1, PyTorch values for 2 -> 4', () => {
    const same = bicubicMatrix(5, 5);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) expect(same[i * 5 + j]).toBeCloseTo(i === j ? 1 : 0, 6);
    const m = bicubicMatrix(8, 3);
    for (let r = 0; r < 3; r++) expect(m.slice(r * 8, r * 8 + 8).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    // F.interpolate(torch.tensor([[[0., 1.]]]), size=4, mode='bicubic'... along one axis) = [-0.1055, 0.2266, 0.7734, 1.1055] (torch 1.13, Debian's python3-torch)
    const up = bicubicMatrix(2, 4);
    const y = [0, 1, 2, 3].map((o) => up[o * 2 + 1]);
    expect(y.map((v) => Number(v.toFixed(4)))).toEqual([-0.1055, 0.2266, 0.7734, 1.1055]);
    // 2-D: F.interpolate(torch.arange(16.).reshape(1, 1, 4, 4), size=(2, 3), mode='bicubic', align_corners=False)
    const ramp = tf.matMul(interpolationMatrix([4, 4], [2, 3]), tf.reshape(tf.range(0, 16), [16, 1]) as Tensor2D).dataSync();
    expect(maxAbsDiff(ramp, [1.7511579, 3.125, 4.4988437, 10.5011597, 11.875, 13.2488451])).toBeLessThan(1e-5);
    // the 2-D matrix is the Kronecker product: a constant table stays constant
    const k = interpolationMatrix([4, 4], [2, 3]);
    expect(k.shape).toEqual([6, 16]);
    const c = tf.matMul(k, tf.ones([16, 1]) as Tensor2D).dataSync();
    expect(maxAbsDiff(c, new Float32Array(6).fill(1))).toBeLessThan(1e-6);
  });

  it('keep: a permutation of all tokens gives the same cls output as no keep; dropped patches do not matter', async () => {
    const e = await make(small, 16);
    const x = tf.tensor4d(randn([2, 16, 16, 3], 3), [2, 16, 16, 3]);
    const all = e.forward(x, false).h.dataSync();
    const order = [...Array(16).keys()].reverse();
    const shuffled = tf.tensor2d([...order, ...order.map((i) => (i + 5) % 16)], [2, 16], 'int32');
    expect(maxAbsDiff(e.forward(x, false, { keep: shuffled }).h.dataSync(), all)).toBeLessThan(1e-4);
    // keep 4 patches (of the 4x4 grid) per sample; change every pixel of the others: h is unchanged
    const keep = tf.tensor2d([0, 5, 10, 15, 3, 6, 9, 12], [2, 4], 'int32');
    const kept = e.forward(x, false, { keep });
    expect(kept.tokens.shape).toEqual([2, 5, 16]);
    const mask = new Float32Array(2 * 16 * 16 * 3);
    const keepSet = [
      [0, 5, 10, 15],
      [3, 6, 9, 12],
    ];
    for (let b = 0; b < 2; b++)
      for (let yy = 0; yy < 16; yy++)
        for (let xx = 0; xx < 16; xx++) {
          const patch = Math.floor(yy / 4) * 4 + Math.floor(xx / 4);
          if (!keepSet[b].includes(patch)) for (let c = 0; c < 3; c++) mask[((b * 16 + yy) * 16 + xx) * 3 + c] = 1;
        }
    const noisy = tf.add(x, tf.mul(tf.tensor4d(mask, [2, 16, 16, 3]), tf.tensor4d(randn([2, 16, 16, 3], 9), [2, 16, 16, 3]))) as Tensor4D;
    expect(maxAbsDiff(e.forward(noisy, false, { keep }).h.dataSync(), kept.h.dataSync())).toBeLessThan(1e-5);
    // ...while without keep the same change moves h
    expect(maxAbsDiff(e.forward(noisy, false).h.dataSync(), all)).toBeGreaterThan(1e-2);
    expect(kept.map).toBeUndefined();
    expect(maxAbsDiff(kept.keep.dataSync(), keep.dataSync())).toBe(0);
  });

  it('a patch size that does not divide the image: a sentence naming both', async () => {
    await expect(make({ type: 'vit', patchSize: 5 }, 28, 1)).rejects.toThrow('patch size 5 does not divide the 28x28 images');
  });

  it('gradients reach every parameter, the position table included, through a keep', async () => {
    const e = await make(small, 8);
    const x = tf.tensor4d(randn([2, 8, 8, 3], 4), [2, 8, 8, 3]);
    const keep = tf.tensor2d([0, 3, 1, 2], [2, 2], 'int32');
    const vars = e.params.trainable().map((p) => p.variable);
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(e.forward(x, true, { keep }).h)) as tf.Scalar, vars);
    for (const p of e.params.trainable()) expect(tf.sum(tf.abs(grads[p.variable.name])).dataSync()[0], p.name).toBeGreaterThan(0);
  });
});
