import { Type } from '@sinclair/typebox';
import {
  ParamStore,
  Rng,
  TrainingError,
  coinFlips,
  constant,
  definePlugin,
  readImages,
  normalizeImages,
  selectPerSample,
  tf,
  type EvalContext,
  type Param,
  type PluginContext,
  type Static,
  type Tensor,
  type Tensor2D,
  type Tensor4D,
} from '../../core/index.js';
import { adamw } from '../optimizers/adam.js';
import { cosineFactor } from '../schedules/cosine.js';

const options = Type.Object({
  epochs: Type.Integer({ default: 5, minimum: 1 }),
  batchSize: Type.Integer({ default: 128, minimum: 1 }),
  lr: Type.Number({
    default: 1e-3,
    exclusiveMinimum: 0,
    description: 'AdamW peak learning rate (after the warm-up, cosine decay to 0), before layer-wise decay',
  }),
  warmupEpochs: Type.Number({
    default: 0,
    minimum: 0,
    description: 'linear warm-up from 0 to lr over this many epochs (may be fractional), then the cosine over the rest (MAE: 5 of 100)',
  }),
  headLr: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: "the linear head's peak learning rate (default: lr)" })),
  weightDecay: Type.Number({ default: 0.05, minimum: 0, description: 'decoupled (AdamW); not on biases and batch norm' }),
  layerDecay: Type.Number({
    default: 1,
    exclusiveMinimum: 0,
    maximum: 1,
    description: 'layer-wise lr decay: depth d of L gets lr*layerDecay^(L+1-d) (MAE: 0.75); 1 is off',
  }),
  flip: Type.Boolean({ default: true, description: 'random horizontal flip of the training images' }),
  seed: Type.Optional(Type.Integer({ description: "batch order and flips (default: the run's seed)" })),
  name: Type.Optional(Type.String({ description: 'metric prefix (default finetune)' })),
});

type FineTuneOptions = Static<typeof options>;

/**
 * Fine-tuning evaluation (MAE, He et al. 2022, judges its encoder this way rather than by a linear
 * probe): a copy of the encoder (`EvalContext.copyEncoder`; the run's encoder is left as it is)
 * and a zero-initialised linear head are trained together with the labels of the training split
 * (`eval.trainLimit` applies), cross-entropy, AdamW with a per-step learning rate (a linear warm-up
 * over `warmupEpochs`, then a cosine to 0: the `cosine` schedule's `cosineFactor`), batch norm in
 * training mode, random horizontal flips; then top-1 on the test split in eval mode (`<name>_top1`,
 * default `finetune_top1`). Images go through the run's `evalView` and the dataset's normalisation,
 * as for the frozen evaluators. One line per epoch is logged.
 *
 * Layer-wise learning-rate decay (`layerDecay`, BEiT/MAE: depth d of L gets lr·layerDecay^(L+1-d))
 * reads the depth of each parameter from its name: an encoder parameter named `blocks.<i>.…` is at
 * depth i+1, the others at depth 0 when the encoder creates them before its blocks (patch
 * embedding, cls token, position embedding) or L+1 after them (a final norm), the head at L+1,
 * with L the number of blocks (`layerDecayScales`). An encoder without `blocks.<i>.` names (the
 * CNNs) is a single layer 0: with `layerDecay` < 1 all of it trains at lr·layerDecay and the head
 * at lr.
 *
 * @example { "type": "fine-tune", "epochs": 10, "lr": 5e-4, "warmupEpochs": 1, "weightDecay": 0.05, "layerDecay": 0.75 }
 */
export default definePlugin({
  kind: 'evaluator',
  name: 'fine-tune',
  description: 'train a copy of the encoder with a linear head on the labels (AdamW), top-1 on the test split',
  reference: 'He et al. 2022 (MAE): AdamW, weight decay 0.05, layer-wise lr decay 0.75',
  options,
  metrics: (o) => [metricOf(o)],
  create: (o, plugin) => ({
    async evaluate(ctx) {
      return { [metricOf(o)]: await fineTuneTop1(ctx, o, plugin) };
    },
  }),
});

const metricOf = (o: { name?: string }) => `${o.name ?? 'finetune'}_top1`;

/** The depth of an encoder parameter named `blocks.<i>.…` (at the start of the name or of a `/` segment): i+1; undefined for other names. */
export function blockDepth(name: string): number | undefined {
  const m = /(?:^|\/)blocks\.(\d+)\./.exec(name);
  return m ? Number(m[1]) + 1 : undefined;
}

/**
 * Layer-wise learning-rate multipliers of an encoder's parameters, `names` in the encoder's order
 * (`ParamStore.list()`). With L the number of blocks (the largest `blocks.<i>.` index + 1), a
 * parameter of block i is at depth i+1, one created before the blocks (patch embedding, cls token,
 * position embedding) at depth 0, one created after them (the final norm) at depth L+1 with the
 * head, as in MAE's `get_layer_id_for_vit`; without blocks everything is at depth 0. Depth d gets
 * `decay^(L+1-d)`, the head `decay^0 = 1`.
 */
export function layerDecayScales(
  names: readonly string[],
  decay: number,
): { layers: number; depth: Map<string, number>; encoder: Map<string, number>; head: number } {
  const blocks = names.map(blockDepth);
  const layers = blocks.reduce<number>((l, d) => Math.max(l, d ?? 0), 0);
  const lastBlock = blocks.reduce<number>((last, d, k) => (d === undefined ? last : k), -1);
  const depth = new Map(names.map((n, k) => [n, blocks[k] ?? (lastBlock >= 0 && k > lastBlock ? layers + 1 : 0)]));
  const encoder = new Map([...depth].map(([n, d]) => [n, decay ** (layers + 1 - d)]));
  return { layers, depth, encoder, head: 1 };
}

async function fineTuneTop1(ctx: EvalContext, o: FineTuneOptions, plugin: PluginContext): Promise<number> {
  const { info, numClasses } = ctx;
  const train = ctx.images('train');
  const test = ctx.images('test');
  const rng = Rng.fromSeed(o.seed ?? ctx.seed, 'fine-tune');
  const optimizer = await adamw.create({ lr: o.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: o.weightDecay }, plugin);
  const encoder = await ctx.copyEncoder();
  const headStore = new ParamStore('fine-tune-head');
  try {
    // MAE initialises the head with std 2e-5: zero, for all purposes
    const w = headStore.add('head.weight', [encoder.dim, numClasses], { init: constant(0) });
    const b = headStore.add('head.bias', [numClasses], { init: constant(0), decay: false });
    const logits = (x: Tensor4D, training: boolean) => tf.add(tf.matMul(encoder.forward(x, training).h, w), b) as Tensor2D;
    const params: Param[] = [
      ...encoder.params.trainable().map((p) => ({ ...p, name: `encoder/${p.name}` })),
      ...headStore.trainable().map((p) => ({ ...p, name: `head/${p.name}` })),
    ];
    optimizer.init(params);
    const keyOf = new Map(params.map((p) => [p.variable.name, p.name]));
    const scales = layerDecayScales(
      encoder.params.trainable().map((p) => p.name),
      o.layerDecay,
    );
    if (o.layerDecay !== 1 && scales.layers === 0)
      ctx.log(`  fine-tune: no 'blocks.<i>.' parameters in the encoder: layerDecay ${o.layerDecay} scales all of it`);
    const scaleOf = new Map<string, number>([...scales.encoder].map(([n, s]) => [`encoder/${n}`, s]));
    const decays = new Map(params.map((p) => [p.name, p.decay]));
    const batch = Math.min(o.batchSize, train.count);
    const stepsPerEpoch = Math.floor(train.count / batch);
    const total = o.epochs * stepsPerEpoch;
    // MAE's fine-tuning schedule (lr_sched.adjust_learning_rate): a linear warm-up, then a cosine to 0
    const schedule = { warmupEpochs: o.warmupEpochs, final: 0 };
    const input = (x: Tensor4D) => normalizeImages(ctx.evalView(x), info);
    let step = 0;
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const t0 = performance.now();
      const perm = rng.permutation(train.count);
      let sum = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        const idx = perm.subarray(s * batch, (s + 1) * batch);
        const factor = cosineFactor({ step, totalSteps: total, stepsPerEpoch }, schedule);
        const labels = Int32Array.from(idx, (i) => train.labels[i]);
        const raw = await readImages(train, info, idx);
        // the loss is read back (asynchronously, as every backend allows) before the update: a loss that is not finite moves nothing
        const { value, named } = tf.tidy(() => {
          let x: Tensor4D = raw;
          if (o.flip) x = selectPerSample(coinFlips(rng, batch, 0.5), tf.reverse(x, 2), x) as Tensor4D;
          const xIn = input(x);
          const y = tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses);
          const { value, grads } = tf.variableGrads(
            () => tf.losses.softmaxCrossEntropy(y, logits(xIn, true)) as tf.Scalar,
            params.map((p) => p.variable),
          );
          return { value, named: Object.fromEntries(Object.entries(grads).map(([k, g]) => [keyOf.get(k)!, g])) };
        });
        raw.dispose();
        let loss: number;
        try {
          loss = (await value.data())[0];
          if (!Number.isFinite(loss)) throw new TrainingError(`fine-tune: the loss became ${loss} at epoch ${epoch + 1}: lower lr (${o.lr})`);
          tf.tidy(() =>
            optimizer.apply(new Map<string, Tensor>(Object.entries(named)), (name) => ({
              lr: factor * (name.startsWith('head/') ? (o.headLr ?? o.lr) * scales.head : o.lr * scaleOf.get(name)!),
              weightDecay: decays.get(name) ? o.weightDecay : 0,
              adapt: false,
            })),
          );
        } finally {
          tf.dispose([value, ...Object.values(named)]);
        }
        sum += loss;
        step++;
      }
      ctx.log(`  fine-tune epoch ${epoch + 1}/${o.epochs}: loss ${(sum / stepsPerEpoch).toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    let correct = 0;
    for (let s = 0; s < test.count; s += o.batchSize) {
      const idx = Int32Array.from({ length: Math.min(o.batchSize, test.count - s) }, (_, i) => s + i);
      const x = await readImages(test, info, idx);
      const pred = tf.tidy(() => tf.argMax(logits(input(x), false), 1));
      x.dispose();
      const p = await pred.data();
      pred.dispose();
      for (let i = 0; i < idx.length; i++) if (p[i] === test.labels[idx[i]]) correct++;
    }
    return correct / test.count;
  } finally {
    encoder.params.dispose();
    headStore.dispose();
    for (const v of optimizer.state().values()) v.dispose();
  }
}
