import { beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, tf } from '../../../cli/api.js';
import { makeEncoder, useBackend } from '../../helpers.js';

const registry = createRegistry();
const make = (ref: { type: string; [k: string]: unknown }, channels: number) => makeEncoder(registry, ref, 32, channels);

describe('encoders', () => {
  beforeAll(() => useBackend('wasm', registry));

  it('small-cnn: h [N, last width], map at 1/4 resolution, parameter count of the reference CNN', async () => {
    const e = await make({ type: 'small-cnn', widths: [32, 64, 128] }, 1);
    const out = e.forward(tf.zeros([2, 28, 28, 1]), false);
    expect(out.h.shape).toEqual([2, 128]);
    expect(out.map.shape).toEqual([2, 7, 7, 128]);
    // 9*1*32 + 9*32*64 + 9*64*128 convs + 2*(32+64+128) BN affine = PyTorch's count for the same net
    expect(e.params.count()).toBe(9 * 32 + 9 * 32 * 64 + 9 * 64 * 128 + 2 * (32 + 64 + 128));
  });

  it('resnet-18 (CIFAR stem): h [N, 512], map [N, 4, 4, 512], 11.17M parameters like torchvision minus fc', async () => {
    const e = await make({ type: 'resnet', depth: 18 }, 3);
    const out = e.forward(tf.zeros([1, 32, 32, 3]), false);
    expect(out.h.shape).toEqual([1, 512]);
    expect(out.map.shape).toEqual([1, 4, 4, 512]);
    // torchvision resnet18 with a 3x3 stem and no fc: 11,168,832 parameters
    expect(e.params.count()).toBe(11_168_832);
  });

  it('resnet-50: bottleneck blocks give h = 4 x the last stage width (2048 at width 1)', async () => {
    const e = await make({ type: 'resnet', depth: 50, widthMultiplier: 0.25 }, 3);
    expect(e.forward(tf.zeros([1, 32, 32, 3]), false).h.shape).toEqual([1, 512]);
    expect(e.dim).toBe(512);
  });
});
