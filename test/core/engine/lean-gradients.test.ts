import { beforeAll, describe, expect, it } from 'vitest';
import { ParamStore, Rng, createRegistry, tf, type Encoder, type Tensor } from '../../../cli/api.js';
import { withStockGradients } from '../../../core/engine/index.js';
import { randn, useBackend } from '../../helpers.js';

const registry = createRegistry();

describe('the lean backward pass (frees each node’s saved tensors and gradients as it goes)', () => {
  beforeAll(() => useBackend('wasm', registry));

  it('gives bit-identical gradients to tfjs’s own pass, on a ViT with dropped tokens and on a small CNN', async () => {
    for (const ref of [
      { type: 'vit', patchSize: 4, dim: 16, depth: 2, heads: 2 },
      { type: 'small-cnn', widths: [4, 8] },
    ]) {
      const enc = (await registry.create('encoder', ref, {
        seed: 0,
        rng: Rng.fromSeed(0),
        path: '/encoder',
        registry,
        log: () => {},
        dataset: { name: 't', height: 16, width: 16, channels: 3, numClasses: 2, mean: [0], std: [1] },
      })) as Encoder;
      const x = tf.tensor4d(randn([4, 16, 16, 3], 1), [4, 16, 16, 3]);
      const keep = ref.type === 'vit' ? { keep: tf.tensor2d([0, 5, 9, 1, 2, 3, 15, 14], [4, 2], 'int32') } : undefined;
      const vars = enc.params.trainable().map((p) => p.variable);
      const run = () => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(enc.forward(x, true, keep).h)) as tf.Scalar, vars);
        const out = { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name].dataSync().slice()) };
        tf.dispose([value, ...Object.values(grads)]);
        return out;
      };
      const lean = run();
      const stock = withStockGradients(tf, run);
      expect(lean.loss).toBe(stock.loss);
      lean.grads.forEach((g, i) => expect(g, `${ref.type} ${vars[i].name}`).toEqual(stock.grads[i]));
      expect(lean.grads.some((g) => g.some((v) => v !== 0))).toBe(true);
    }
  });

  it('leaves no tensor behind, and at the end of the backward pass holds a fraction of the memory the stock pass holds', async () => {
    const store = new ParamStore('chain', Rng.fromSeed(1));
    const ws = Array.from({ length: 16 }, (_, i) => store.add(`w${i}`, [64, 64], { init: (n, r) => r!.fill(n, (g) => g.normal() * 0.1) }));
    const x = tf.tensor2d(randn([256, 64], 2), [256, 64]);
    // an identity whose gradient records the bytes alive when the backward pass reaches it
    let bytesAtEnd = 0;
    const probe = tf.customGrad(((t: Tensor, save: (ts: Tensor[]) => void) => {
      save([]);
      return {
        value: tf.clone(t),
        gradFunc: (dy: Tensor | Tensor[]) => {
          bytesAtEnd = tf.memory().numBytes;
          return [tf.clone(dy as Tensor)];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    // the probe sits after the first layer, on the path from the variables (its gradient runs once 15 layers are done)
    const layer = (h: Tensor, w: tf.Variable) => tf.tanh(tf.add(tf.matMul(h as tf.Tensor2D, w as unknown as tf.Tensor2D), tf.mul(h, 0.5)));
    const f = () => ws.slice(1).reduce<Tensor>(layer, probe(layer(x, ws[0])));
    const before = tf.memory();
    const step = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(f()) as tf.Scalar, ws);
      tf.dispose([value, ...Object.values(grads)]);
      return bytesAtEnd - before.numBytes;
    };
    const lean = step();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    const stock = withStockGradients(tf, step);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    // 15 layers of [256, 64] (64 KiB each) behind: the stock pass still holds their intermediates' gradients and saved tensors
    expect(stock).toBeGreaterThan(15 * 4 * 65536);
    expect(lean).toBeLessThan(0.25 * stock);
  });
});
