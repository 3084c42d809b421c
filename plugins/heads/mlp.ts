import { Type } from '@sinclair/typebox';
import { BatchNorm, Dense, ParamStore, definePlugin, tf, type Tensor2D } from '../../core/index.js';

/**
 * MLP projection head (SimCLR, Chen et al. 2020): `layers` linear layers, ReLU between them, and
 * optionally batch norm after each hidden layer (SimCLR v2 / MoCo v3 style, and after the output
 * with `batchNormOutput`). `[N, D] -> [N, outDim]`. SimCLR v1: 2 layers, hidden = D, no BN.
 *
 * @example { "type": "mlp", "layers": 2, "hiddenDim": 128, "outDim": 64 }
 */
export default definePlugin({
  kind: 'head',
  name: 'mlp',
  description: 'n linear layers with ReLU (and optional batch norm) between them',
  reference: 'SimCLR (Chen et al. 2020): 2-layer MLP, 128-d output',
  options: Type.Object({
    layers: Type.Integer({ default: 2, minimum: 1, description: 'number of linear layers' }),
    hiddenDim: Type.Optional(Type.Integer({ minimum: 1, description: 'width of hidden layers (default: the encoder dimension)' })),
    outDim: Type.Integer({ default: 128, minimum: 1, description: 'size of z' }),
    batchNorm: Type.Boolean({ default: false, description: 'batch norm after each hidden layer' }),
    batchNormOutput: Type.Boolean({ default: false, description: 'batch norm (without affine) on the output' }),
  }),
  create(o, ctx) {
    if (!ctx.inputDim) throw new Error('the mlp head needs the encoder dimension');
    const hidden = o.hiddenDim ?? ctx.inputDim;
    const params = new ParamStore('mlp-head', ctx.rng);
    const dims = [ctx.inputDim, ...Array(o.layers - 1).fill(hidden), o.outDim];
    const layers = dims.slice(1).map((out, i) => {
      const last = i === o.layers - 1;
      const useBn = last ? o.batchNormOutput : o.batchNorm;
      return {
        fc: new Dense(params, `fc${i + 1}`, { inFeatures: dims[i], outFeatures: out, bias: !useBn }),
        bn: useBn ? new BatchNorm(params, `bn${i + 1}`, { channels: out, affine: !last }) : undefined,
        relu: !last,
      };
    });
    return {
      params,
      dim: o.outDim,
      forward(input, training) {
        let y = input[ctx.input ?? 'h'] as Tensor2D;
        for (const l of layers) {
          y = l.fc.apply(y);
          if (l.bn) y = l.bn.apply(y, training, l.relu) as Tensor2D;
          else if (l.relu) y = tf.relu(y);
        }
        return y;
      },
    };
  },
});
