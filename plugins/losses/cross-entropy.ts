import { Type } from '@sinclair/typebox';
import { definePlugin, tf, type Scalar } from '../../core/index.js';

/**
 * Softmax cross-entropy between the head's logits and integer labels from the augmenter
 * (`targets.labels`, one per row of the views' outputs concatenated in view order), e.g. RotNet's
 * four rotation classes (Gidaris et al. 2018). Optional label smoothing.
 * `outputs: V x [N, C]`, `targets.labels: [V*N]` int32 -> scalar.
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
    target: Type.String({ default: 'labels', description: 'name of the augmenter target holding the labels' }),
  }),
  create: (o) => ({
    compute({ outputs, targets }) {
      const labels = targets?.[o.target];
      if (!labels) throw new Error(`cross-entropy needs targets.${o.target} from the augmenter (e.g. rotate4); this augmenter gives none`);
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
