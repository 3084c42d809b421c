import { Type } from '@sinclair/typebox';
import { Rng, definePlugin, tf, type FeatureSet } from '../../core/index.js';

/**
 * Linear probe: multinomial logistic regression on frozen, standardised features (train mean/std),
 * trained on the training split with Adam, minibatches and a cosine learning rate, scored top-1 on
 * the test split (`<name>_top1`). The defaults match the project's PyTorch accuracy
 * reference (Adam 1e-2, batch 512, 30 epochs, no weight decay).
 *
 * @example { "type": "linear-probe", "features": "h" }
 */
export default definePlugin({
  kind: 'evaluator',
  name: 'linear-probe',
  description: 'logistic regression on frozen features, top-1 on the test split',
  reference: 'linear evaluation protocol (Zhang et al. 2016; SimCLR)',
  options: Type.Object({
    features: Type.Union([Type.Literal('h'), Type.Literal('z')], { default: 'h', description: 'encoder features h or head output z' }),
    epochs: Type.Integer({ default: 30, minimum: 1 }),
    batchSize: Type.Integer({ default: 512, minimum: 1 }),
    lr: Type.Number({ default: 1e-2, exclusiveMinimum: 0 }),
    weightDecay: Type.Number({ default: 0, minimum: 0 }),
    name: Type.Optional(Type.String({ description: 'metric prefix (default linear, or linear_z for z)' })),
  }),
  metrics: (o) => [metricOf(o)],
  create: (o) => ({
    async evaluate(ctx) {
      const train = await ctx.features('train', o.features);
      const test = await ctx.features('test', o.features);
      const acc = await linearProbeTop1(train, test, ctx.numClasses, { ...o, seed: ctx.seed });
      return { [metricOf(o)]: acc };
    },
  }),
});

const metricOf = (o: { name?: string; features: 'h' | 'z' }) => `${o.name ?? (o.features === 'h' ? 'linear' : 'linear_z')}_top1`;

export async function linearProbeTop1(
  train: FeatureSet,
  test: FeatureSet,
  numClasses: number,
  o: { epochs: number; batchSize: number; lr: number; weightDecay: number; seed: number },
): Promise<number> {
  const d = train.dim;
  const { mu, sd } = tf.tidy(() => {
    const x = tf.tensor2d(train.x, [train.count, d]);
    const { mean, variance } = tf.moments(x, 0);
    return { mu: mean, sd: tf.add(tf.sqrt(variance), 1e-6) };
  });
  const xTrain = tf.tidy(() => tf.div(tf.sub(tf.tensor2d(train.x, [train.count, d]), mu), sd));
  const yTrain = tf.oneHot(tf.tensor1d(train.labels, 'int32'), numClasses);
  const w = tf.variable(tf.zeros([d, numClasses]));
  const b = tf.variable(tf.zeros([numClasses]));
  const opt = tf.train.adam(o.lr);
  const rng = Rng.fromSeed(o.seed, 'linear-probe');
  const stepsPerEpoch = Math.ceil(train.count / o.batchSize);
  const total = o.epochs * stepsPerEpoch;
  let step = 0;
  for (let e = 0; e < o.epochs; e++) {
    const perm = rng.permutation(train.count);
    for (let s = 0; s < train.count; s += o.batchSize) {
      (opt as unknown as { learningRate: number }).learningRate = o.lr * 0.5 * (1 + Math.cos((Math.PI * step) / total));
      const idx = tf.tensor1d(perm.subarray(s, s + o.batchSize), 'int32');
      opt.minimize(
        () => {
          const xb = tf.gather(xTrain, idx);
          const logits = tf.add(tf.matMul(xb, w), b);
          let loss = tf.losses.softmaxCrossEntropy(tf.gather(yTrain, idx), logits) as tf.Scalar;
          if (o.weightDecay > 0) loss = tf.add(loss, tf.mul(tf.sum(tf.square(w)), o.weightDecay / 2));
          return loss;
        },
        false,
        [w, b],
      );
      idx.dispose();
      step++;
    }
  }
  const pred = tf.tidy(() => {
    const x = tf.div(tf.sub(tf.tensor2d(test.x, [test.count, d]), mu), sd);
    return tf.argMax(tf.add(tf.matMul(x, w), b), 1);
  });
  const p = await pred.data();
  let correct = 0;
  for (let i = 0; i < test.count; i++) if (p[i] === test.labels[i]) correct++;
  tf.dispose([mu, sd, xTrain, yTrain, w, b, pred]);
  opt.dispose();
  return correct / test.count;
}
