import { Type } from '@sinclair/typebox';
import { definePlugin, tf, type FeatureSet } from '../../core/index.js';

/**
 * Weighted kNN monitor (Wu et al. 2018, InstDisc; used by SimCLR/MoCo repos): cosine similarity of
 * each test feature to every training feature, the k nearest vote for their class with weight
 * exp(sim / T). Reports top-1 accuracy on the test split as `<name>_top1` in [0, 1].
 *
 * @example { "type": "knn", "k": 200, "temperature": 0.1 }
 */
export default definePlugin({
  kind: 'evaluator',
  name: 'knn',
  description: 'weighted kNN top-1 on frozen features (k=200, T=0.1)',
  reference: 'Wu et al. 2018 (InstDisc): k = 200, T = 0.1',
  options: Type.Object({
    k: Type.Integer({ default: 200, minimum: 1 }),
    temperature: Type.Number({ default: 0.1, exclusiveMinimum: 0 }),
    features: Type.Union([Type.Literal('h'), Type.Literal('z')], { default: 'h', description: 'encoder features h or head output z' }),
    name: Type.Optional(Type.String({ description: 'metric prefix (default knn, or knn_z for z)' })),
    chunk: Type.Integer({ default: 256, minimum: 1, description: 'test rows per similarity block' }),
  }),
  metrics: (o) => [metricOf(o)],
  create: (o) => ({
    async evaluate(ctx) {
      const train = await ctx.features('train', o.features);
      const test = await ctx.features('test', o.features);
      const acc = await knnTop1(train, test, ctx.numClasses, o.k, o.temperature, o.chunk);
      return { [metricOf(o)]: acc };
    },
  }),
});

const metricOf = (o: { name?: string; features: 'h' | 'z' }) => `${o.name ?? (o.features === 'h' ? 'knn' : 'knn_z')}_top1`;

/** Weighted kNN top-1 accuracy of `test` against `train` (cosine similarity); the neighbours are read back asynchronously, as every backend allows. */
export async function knnTop1(train: FeatureSet, test: FeatureSet, numClasses: number, k: number, temperature: number, chunk = 256): Promise<number> {
  const kk = Math.min(k, train.count);
  const trainT = tf.tidy(() => {
    const x = tf.tensor2d(train.x, [train.count, train.dim]);
    return tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12));
  });
  let correct = 0;
  try {
    for (let s = 0; s < test.count; s += chunk) {
      const n = Math.min(chunk, test.count - s);
      const [vals, idx] = tf.tidy(() => {
        const q = tf.tensor2d(test.x.subarray(s * test.dim, (s + n) * test.dim), [n, test.dim]);
        const qn = tf.div(q, tf.maximum(tf.norm(q, 'euclidean', 1, true), 1e-12));
        const { values, indices } = tf.topk(tf.matMul(qn, trainT, false, true), kk);
        return [values, indices];
      });
      let v: Float32Array | Int32Array | Uint8Array;
      let ix: Float32Array | Int32Array | Uint8Array;
      try {
        [v, ix] = await Promise.all([vals.data(), idx.data()]);
      } finally {
        tf.dispose([vals, idx]);
      }
      const votes = new Float64Array(numClasses);
      for (let r = 0; r < n; r++) {
        votes.fill(0);
        for (let j = 0; j < kk; j++) votes[train.labels[ix[r * kk + j]]] += Math.exp(v[r * kk + j] / temperature);
        let best = 0;
        for (let c = 1; c < numClasses; c++) if (votes[c] > votes[best]) best = c;
        if (best === test.labels[s + r]) correct++;
      }
    }
  } finally {
    trainT.dispose();
  }
  return correct / test.count;
}
