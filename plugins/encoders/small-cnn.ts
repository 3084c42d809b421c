import { Type } from '@sinclair/typebox';
import { BatchNorm, Conv2d, ParamStore, definePlugin, globalAvgPool, tf } from '../../core/index.js';

/**
 * A small CNN: per stage conv3x3 (no bias) + batch norm + ReLU; the first stage keeps the
 * resolution, the others halve it (stride 2); global average pooling gives `h`. With the default
 * widths [32, 64, 128] it is the encoder of the project's PyTorch reference benchmarks.
 * `[N, H, W, C] -> h [N, widths.at(-1)], map [N, H/4, W/4, widths.at(-1)]`.
 *
 * @example { "type": "small-cnn", "widths": [32, 64, 128] }
 */
export default definePlugin({
  kind: 'encoder',
  name: 'small-cnn',
  description: 'conv3x3-BN-ReLU stages (stride 1, then 2), global average pool',
  options: Type.Object({
    widths: Type.Array(Type.Integer({ minimum: 1 }), { default: [32, 64, 128], minItems: 1, description: 'channels of each stage' }),
    strides: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 4 }), { description: 'stride of each stage (default 1, then 2)' })),
  }),
  create(o, ctx) {
    const channels = ctx.dataset?.channels ?? 3;
    const strides = o.strides ?? o.widths.map((_, i) => (i === 0 ? 1 : 2));
    if (strides.length !== o.widths.length) throw new Error(`strides has ${strides.length} entries for ${o.widths.length} stages`);
    const params = new ParamStore('small-cnn', ctx.rng);
    const stages = o.widths.map((w, i) => ({
      conv: new Conv2d(params, `conv${i + 1}`, {
        inChannels: i === 0 ? channels : o.widths[i - 1],
        outChannels: w,
        kernel: 3,
        stride: strides[i],
        bias: false,
      }),
      bn: new BatchNorm(params, `bn${i + 1}`, { channels: w }),
    }));
    return {
      params,
      dim: o.widths[o.widths.length - 1],
      forward(x, training) {
        let y = x;
        for (const s of stages) y = s.bn.apply(s.conv.apply(y), training, true) as tf.Tensor4D;
        return { h: globalAvgPool(y), map: y };
      },
    };
  },
});
