import { Type } from '@sinclair/typebox';
import { Dense, ParamStore, definePlugin, tf } from '../../core/index.js';

/**
 * Linear projection head: `z = h W + b` (`[N, D] -> [N, outDim]`). MoCo v1's head (128-d).
 *
 * @example { "type": "linear", "outDim": 128 }
 */
export default definePlugin({
  kind: 'head',
  name: 'linear',
  description: 'one linear layer h -> z',
  reference: 'MoCo v1 (He et al. 2020): 128-d linear projection',
  options: Type.Object({
    outDim: Type.Integer({ default: 128, minimum: 1, description: 'size of z' }),
    bias: Type.Boolean({ default: true }),
  }),
  create(o, ctx) {
    if (!ctx.inputDim) throw new Error('the linear head needs the encoder dimension');
    const params = new ParamStore('linear-head', ctx.rng);
    const fc = new Dense(params, 'fc', { inFeatures: ctx.inputDim, outFeatures: o.outDim, bias: o.bias });
    return { params, dim: o.outDim, forward: (input) => fc.apply(input[ctx.input ?? 'h'] as tf.Tensor2D) };
  },
});
