import { Type } from '@sinclair/typebox';
import { definePlugin, readOutputs, tf, type Scalar } from '../../core/index.js';

/**
 * Softmax cross-entropy between the head's logits and integer labels from the augmenter
 * (`supervision.labels`, one per row of the views' outputs concatenated in view order), e.g. RotNet's
 * four rotation classes (Gidaris et al. 2018). Optional label smoothing.
 * `online[v].z: [N, C]` for V views, `supervision.labels: [V*N]` int32 -> scalar.
 *
 * @example { "type": "cross-entropy" }
 */
export default definePlugin({
  kind: 'loss',
  name: 'cross-entropy',
  description: 'softmax cross-entropy with labels from the augmenter (e.g. rotation)',
  reference: 'RotNet (Gidaris et al. 2018)',
  options: Type.Object({
    labelSmoothing: Type.Number({ default: 0, minimum: 0, maximum: 1, description: 'mix of the uniform distribution into the targets' }),
    labels: Type.String({ default: 'labels', description: "the augmenter's supervision that holds the labels" }),
    output: Type.String({ default: 'z', description: 'the online output that holds the logits' }),
  }),
  create: (o) => ({
    compute({ online, supervision }) {
      const labels = supervision?.[o.labels];
      if (!labels)
        throw new Error(
          `cross-entropy needs supervision.${o.labels} from the augmenter (e.g. rotate4); this augmenter gives ${Object.keys(supervision ?? {}).join(', ') || 'none'}`,
        );
      const outputs = readOutputs(online, o.output, 'online');
      const logits = outputs.length === 1 ? outputs[0] : tf.concat(outputs, 0);
      const c = logits.shape[logits.rank - 1];
      if (labels.size !== logits.size / c) throw new Error(`${labels.size} labels for ${logits.size / c} outputs`);
      let onehot = tf.oneHot(tf.cast(tf.reshape(labels, [-1]), 'int32') as tf.Tensor1D, c);
      if (o.labelSmoothing > 0) onehot = tf.add(tf.mul(onehot, 1 - o.labelSmoothing), o.labelSmoothing / c);
      const logp = tf.logSoftmax(tf.reshape(logits, [-1, c]));
      return tf.neg(tf.mean(tf.sum(tf.mul(onehot, logp), 1))) as Scalar;
    },
  }),
});
