import { Type } from '@sinclair/typebox';
import { BatchNorm, Dense, ParamStore, definePlugin, tf, type Tensor2D } from '../../core/index.js';

/**
 * Classifier head: `h [N, D] -> logits [N, classes]`, linear or with one hidden layer
 * (linear + batch norm + ReLU), for predictive pretext tasks such as rotation (4 classes).
 *
 * @example { "type": "classifier", "classes": 4, "hiddenDim": 128 }
 */
export default definePlugin({
  kind: 'head',
  name: 'classifier',
  description: 'h -> class logits (rotation and other predictive tasks)',
  reference: 'RotNet (Gidaris et al. 2018): a classifier on the encoder features',
  options: Type.Object({
    classes: Type.Integer({ default: 4, minimum: 2, description: 'number of classes (4 rotations)' }),
    hiddenDim: Type.Integer({ default: 0, minimum: 0, description: 'hidden layer width (0: a single linear layer)' }),
  }),
  create(o, ctx) {
    if (!ctx.inputDim) throw new Error('the classifier head needs the encoder dimension');
    const params = new ParamStore('classifier-head', ctx.rng);
    const hidden =
      o.hiddenDim > 0
        ? {
            fc: new Dense(params, 'fc1', { inFeatures: ctx.inputDim, outFeatures: o.hiddenDim, bias: false }),
            bn: new BatchNorm(params, 'bn1', { channels: o.hiddenDim }),
          }
        : undefined;
    const out = new Dense(params, hidden ? 'fc2' : 'fc', { inFeatures: hidden ? o.hiddenDim : ctx.inputDim, outFeatures: o.classes });
    return {
      params,
      dim: o.classes,
      forward(input, training) {
        const h = input[ctx.input ?? 'h'] as Tensor2D;
        const x = hidden ? (hidden.bn.apply(hidden.fc.apply(h), training, true) as Tensor2D) : h;
        return out.apply(x as tf.Tensor2D);
      },
    };
  },
});
