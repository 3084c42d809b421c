/**
 * What `selfsup new plugin <kind> <name>` writes for each kind: a plugin module (its options schema,
 * doc comment and factory: a small working example to edit), a vitest test of its contract, and a
 * config that trains with it. `NAME` is replaced by the plugin's name.
 */
export interface PluginTemplate {
  /** what the example does, for the command's message */
  summary: string;
  plugin: string;
  test: string;
  /** the config beside the plugin: extends a preset and puts the plugin in its slot */
  config: Record<string, unknown>;
}

const header = (kind: string, contract: string) => `// NAME: a selfsup ${kind} plugin, written by \`selfsup new plugin ${kind} NAME\`.
// Its contract is ${contract} (the types: node_modules/selfsup/dist/index.d.ts, or core/contracts/ in
// selfsup's repository). Load it with "plugins": ["./NAME.mjs"] in a config, or --plugin ./NAME.mjs.
`;

const testHeader = `// The contract test of NAME, as \`selfsup new plugin\` wrote it: run it with npx vitest run NAME.test.mjs
import { describe, expect, it } from 'vitest';
import { PluginRegistry, Rng, tf } from 'selfsup';
import plugin from './NAME.mjs';

const registry = new PluginRegistry().register(plugin, 'NAME.mjs');
const context = (extra = {}) => ({ seed: 0, rng: Rng.fromSeed(0, 'test'), path: '/test', registry, log: () => {}, ...extra });
`;

export const TEMPLATES: Record<string, PluginTemplate> = {
  augmenter: {
    summary: 'scales each image by a random brightness factor',
    plugin: `${header('augmenter', 'Augmenter: apply(x [N, H, W, C] in [0, 1], rng) -> { views }')}import { Type, definePlugin, tf } from 'selfsup';

/**
 * Random brightness: each image times a factor drawn uniformly from [1 - strength, 1 + strength],
 * clipped to [0, 1]. Every random draw comes from \`rng\` (the run's seeded augmentation stream), so
 * a run is reproducible; the work is one batched tensor op.
 *
 * @example { "type": "NAME", "strength": 0.4 }
 */
export default definePlugin({
  kind: 'augmenter',
  name: 'NAME',
  description: 'random brightness: x * U(1 - strength, 1 + strength), clipped to [0, 1]',
  options: Type.Object({
    strength: Type.Number({ default: 0.4, minimum: 0, maximum: 1, description: 'largest relative change of brightness' }),
  }),
  create(o) {
    return {
      apply(x, rng) {
        const n = x.shape[0];
        const factors = rng.fill(n, (r) => r.uniform(1 - o.strength, 1 + o.strength));
        return { views: [tf.clipByValue(tf.mul(x, tf.tensor4d(factors, [n, 1, 1, 1])), 0, 1)] };
      },
    };
  },
});
`,
    test: `${testHeader}
describe('augmenter NAME', () => {
  it('makes one view of the input shape, in [0, 1], that differs from the input, the same for the same seed', async () => {
    const aug = await registry.create('augmenter', { type: 'NAME' }, context());
    const x = tf.randomUniform([4, 8, 8, 3], 0, 1, 'float32', 1);
    const a = aug.apply(x, Rng.fromSeed(1, 'aug'));
    const b = aug.apply(x, Rng.fromSeed(1, 'aug'));
    expect(a.views).toHaveLength(1);
    expect(a.views[0].shape).toEqual([4, 8, 8, 3]);
    expect(tf.min(a.views[0]).dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(tf.max(a.views[0]).dataSync()[0]).toBeLessThanOrEqual(1);
    expect(tf.max(tf.abs(tf.sub(a.views[0], x))).dataSync()[0]).toBeGreaterThan(1e-3);
    expect(tf.max(tf.abs(tf.sub(a.views[0], b.views[0]))).dataSync()[0]).toBe(0);
  });

  it('refuses options outside its schema', async () => {
    await expect(registry.create('augmenter', { type: 'NAME', strength: 2 }, context())).rejects.toThrow(/strength/);
  });
});
`,
    config: {
      extends: 'simclr',
      plugins: ['./NAME.mjs'],
      augmenter: {
        type: 'multi-view',
        views: 2,
        pipeline: [{ type: 'random-resized-crop', scale: [0.2, 1.0] }, { type: 'horizontal-flip' }, { type: 'NAME', strength: 0.4 }],
      },
    },
  },

  encoder: {
    summary: 'two conv-BN-ReLU stages and global average pooling',
    plugin: `${header('encoder', 'Encoder: forward(x [N, H, W, C] normalised, training) -> { h [N, dim], map [N, h, w, C] }')}import { BatchNorm, Conv2d, ParamStore, Type, definePlugin, globalAvgPool } from 'selfsup';

/**
 * A small CNN: per stage a 3x3 convolution (stride 2 after the first stage), batch norm and ReLU;
 * global average pooling gives \`h\`. Every parameter lives in \`params\` under a stable name, so
 * selfsup can copy the encoder (momentum targets), checkpoint it and export it.
 *
 * @example { "type": "NAME", "widths": [16, 32] }
 */
export default definePlugin({
  kind: 'encoder',
  name: 'NAME',
  description: 'conv3x3-BN-ReLU stages, global average pooling',
  options: Type.Object({
    widths: Type.Array(Type.Integer({ minimum: 1 }), { default: [16, 32], minItems: 1, description: 'channels of each stage' }),
  }),
  create(o, ctx) {
    const params = new ParamStore('NAME', ctx.rng);
    const stages = o.widths.map((w, i) => ({
      conv: new Conv2d(params, \`conv\${i + 1}\`, { inChannels: i === 0 ? (ctx.dataset?.channels ?? 3) : o.widths[i - 1], outChannels: w, kernel: 3, stride: i === 0 ? 1 : 2, bias: false }),
      bn: new BatchNorm(params, \`bn\${i + 1}\`, { channels: w }),
    }));
    return {
      params,
      dim: o.widths[o.widths.length - 1],
      forward(x, training) {
        let y = x;
        for (const s of stages) y = s.bn.apply(s.conv.apply(y), training, true);
        return { h: globalAvgPool(y), map: y };
      },
    };
  },
});
`,
    test: `${testHeader}
describe('encoder NAME', () => {
  it('maps [N, H, W, C] to h [N, dim] and a spatial map, with finite values and trainable parameters', async () => {
    const enc = await registry.create('encoder', { type: 'NAME', widths: [4, 8] }, context({ dataset: { channels: 3, height: 16, width: 16 } }));
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 1);
    const out = enc.forward(x, false);
    expect(enc.dim).toBe(8);
    expect(out.h.shape).toEqual([2, 8]);
    expect(out.map.shape).toEqual([2, 8, 8, 8]);
    expect(Number.isFinite(tf.sum(out.h).dataSync()[0])).toBe(true);
    expect(enc.params.list().length).toBeGreaterThan(0);
  });

  it('is trainable: a gradient step on its parameters changes h', async () => {
    const enc = await registry.create('encoder', { type: 'NAME', widths: [4] }, context({ dataset: { channels: 1, height: 8, width: 8 } }));
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 2);
    const before = enc.forward(x, false).h.dataSync().slice();
    const vars = enc.params.list().filter((p) => p.variable.trainable).map((p) => p.variable);
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(enc.forward(x, true).h)), vars);
    for (const v of vars) v.assign(tf.sub(v, tf.mul(grads[v.name], 0.1)));
    const after = enc.forward(x, false).h.dataSync();
    expect(Math.max(...after.map((v, i) => Math.abs(v - before[i])))).toBeGreaterThan(1e-6);
  });
});
`,
    config: { extends: 'simclr', plugins: ['./NAME.mjs'], encoder: { type: 'NAME', widths: [16, 32] } },
  },

  head: {
    summary: 'a two-layer MLP projector',
    plugin: `${header('head', "Head: forward(outputs { h, map, ... }, training) -> z (or named tensors); it reads ctx.input ('h' in a task's head slot, 'z' in its predictor slot)")}import { Dense, ParamStore, Type, definePlugin, tf } from 'selfsup';

/**
 * A two-layer MLP projector: Dense, ReLU, Dense. It reads the branch output its slot feeds it
 * (\`ctx.input\`: the encoder's \`h\` in a task's \`head\` slot, the head's \`z\` in its \`predictor\` slot).
 *
 * @example { "type": "NAME", "hiddenDim": 128, "outDim": 64 }
 */
export default definePlugin({
  kind: 'head',
  name: 'NAME',
  description: 'Dense-ReLU-Dense projector',
  options: Type.Object({
    hiddenDim: Type.Integer({ default: 128, minimum: 1, description: 'hidden width' }),
    outDim: Type.Integer({ default: 64, minimum: 1, description: 'output size' }),
  }),
  create(o, ctx) {
    const input = ctx.input ?? 'h';
    const params = new ParamStore('NAME', ctx.rng);
    const fc1 = new Dense(params, 'fc1', { inFeatures: ctx.inputDim ?? ctx.encoder?.dim ?? 1, outFeatures: o.hiddenDim });
    const fc2 = new Dense(params, 'fc2', { inFeatures: o.hiddenDim, outFeatures: o.outDim });
    return {
      params,
      dim: o.outDim,
      forward(outputs) {
        return fc2.apply(tf.relu(fc1.apply(outputs[input])));
      },
    };
  },
});
`,
    test: `${testHeader}
describe('head NAME', () => {
  it('maps h [N, D] to [N, outDim]', async () => {
    const head = await registry.create('head', { type: 'NAME', hiddenDim: 8, outDim: 4 }, context({ input: 'h', inputDim: 6, encoder: { dim: 6, mapShape: [1, 1, 6] } }));
    const z = head.forward({ h: tf.randomNormal([3, 6], 0, 1, 'float32', 1) }, false);
    expect(head.dim).toBe(4);
    expect(z.shape).toEqual([3, 4]);
    expect(Number.isFinite(tf.sum(z).dataSync()[0])).toBe(true);
  });

  it('in a predictor slot it reads z', async () => {
    const head = await registry.create('head', { type: 'NAME', hiddenDim: 8, outDim: 5 }, context({ input: 'z', inputDim: 3 }));
    expect(head.forward({ z: tf.ones([2, 3]) }, false).shape).toEqual([2, 5]);
  });
});
`,
    config: { extends: 'simclr', plugins: ['./NAME.mjs'], head: { type: 'NAME', hiddenDim: 128, outDim: 64 } },
  },

  loss: {
    summary: 'negative cosine similarity between the two views',
    plugin: `${header('loss', 'Loss: compute({ online, target, negatives, progress, ... }) -> a scalar (or { loss, terms })')}import { Type, definePlugin, l2Normalize, readOutputs, tf } from 'selfsup';

/**
 * Negative cosine similarity between the projections of two views: \`1 - cos(z_0, z_1)\`, averaged
 * over the batch, scaled by \`weight\`. It reads the outputs by name (\`online[v].z\`); a loss that
 * needs the target branch reads \`target[v].z\`, one with negatives \`negatives\`.
 *
 * @example { "type": "NAME", "weight": 1 }
 */
export default definePlugin({
  kind: 'loss',
  name: 'NAME',
  description: '1 - cos(z_0, z_1): pull the two views together',
  options: Type.Object({
    weight: Type.Number({ default: 1, exclusiveMinimum: 0, description: 'scales the loss' }),
  }),
  create(o) {
    return {
      compute({ online }) {
        const [a, b] = readOutputs(online, 'z', 'online').slice(0, 2).map((z) => l2Normalize(z));
        return tf.mul(tf.sub(1, tf.mean(tf.sum(tf.mul(a, b), -1))), o.weight);
      },
    };
  },
});
`,
    test: `${testHeader}
const progress = { step: 0, epoch: 0, fraction: 0 };

describe('loss NAME', () => {
  it('is 0 for identical views, about 1 for unrelated ones, and a finite scalar', async () => {
    const loss = await registry.create('loss', { type: 'NAME' }, context({ inputDim: 8 }));
    const z = tf.randomNormal([16, 8], 0, 1, 'float32', 1);
    const same = loss.compute({ online: [{ z }, { z }], index: new Int32Array(16), progress });
    const other = loss.compute({ online: [{ z }, { z: tf.randomNormal([16, 8], 0, 1, 'float32', 2) }], index: new Int32Array(16), progress });
    expect(same.shape).toEqual([]);
    expect(same.dataSync()[0]).toBeCloseTo(0, 5);
    expect(other.dataSync()[0]).toBeGreaterThan(0.5);
    expect(other.dataSync()[0]).toBeLessThan(1.5);
  });

  it('has a gradient that pulls the views together', async () => {
    const loss = await registry.create('loss', { type: 'NAME' }, context({ inputDim: 4 }));
    const a = tf.variable(tf.randomNormal([8, 4], 0, 1, 'float32', 3));
    const b = tf.randomNormal([8, 4], 0, 1, 'float32', 4);
    const value = () => loss.compute({ online: [{ z: a }, { z: b }], index: new Int32Array(8), progress });
    const before = value().dataSync()[0];
    const { grads } = tf.variableGrads(value, [a]);
    a.assign(tf.sub(a, tf.mul(grads[a.name], 1)));
    expect(value().dataSync()[0]).toBeLessThan(before);
  });
});
`,
    config: { extends: 'simclr', plugins: ['./NAME.mjs'], target: { type: 'shared' }, negatives: { type: 'none' }, loss: { type: 'NAME' } },
  },
};
