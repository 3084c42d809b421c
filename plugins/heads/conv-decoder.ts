import { Type } from '@sinclair/typebox';
import { BatchNorm, Conv2d, ParamStore, definePlugin, tf, type Tensor4D } from '../../core/index.js';

/** Nearest-neighbour x2 upsampling of `[N, h, w, C]` with rank-4 tiles and reshapes (tfjs has Tile gradients up to rank 4). */
export function upsample2(x: Tensor4D): Tensor4D {
  const [n, h, w, c] = x.shape;
  const wide = tf.reshape(tf.tile(tf.reshape(x, [n * h, w, 1, c]), [1, 1, 2, 1]), [n, h, 1, 2 * w * c]);
  return tf.reshape(tf.tile(wide, [1, 1, 2, 1]), [n, 2 * h, 2 * w, c]) as Tensor4D;
}

/**
 * Convolutional decoder (context encoder, Pathak et al. 2016; colorization, Zhang et al. 2016):
 * from the encoder's spatial map `[N, h, w, C]` back to the image size `[N, H, W, outChannels]`:
 * x2 nearest upsampling + conv3x3 + batch norm + ReLU until the map reaches the image side (the
 * widths halve each time, at least `minWidth`), then a 3x3 conv to `outChannels`, cropped to
 * `H x W`, with a sigmoid for pixels in [0, 1] (`output: "sigmoid"`) or none (`"linear"`).
 *
 * @example { "type": "conv-decoder", "outChannels": 1, "output": "sigmoid" }
 */
export default definePlugin({
  kind: 'head',
  name: 'conv-decoder',
  description: 'upsampling conv decoder from the spatial map to image size (inpainting, colorization)',
  reference: 'Pathak et al. 2016 (context encoder); Zhang et al. 2016 (colorization)',
  options: Type.Object({
    outChannels: Type.Optional(Type.Integer({ minimum: 1, description: 'output channels (default: the dataset channels)' })),
    minWidth: Type.Integer({ default: 16, minimum: 1, description: 'narrowest decoder layer' }),
    output: Type.Union([Type.Literal('sigmoid'), Type.Literal('linear')], {
      default: 'sigmoid',
      description: 'sigmoid for pixels in [0, 1], linear otherwise',
    }),
  }),
  create(o, ctx) {
    const map = ctx.encoder?.mapShape;
    const data = ctx.dataset;
    if (!map || map.length !== 3 || !data) throw new Error('the conv decoder needs the encoder map shape and the dataset image size');
    const [h0, , c0] = map;
    const ups = Math.max(0, Math.ceil(Math.log2(Math.max(data.height, data.width) / h0)));
    const params = new ParamStore('conv-decoder', ctx.rng);
    let c = c0;
    const stages = Array.from({ length: ups }, (_, i) => {
      const out = Math.max(o.minWidth, Math.floor(c / 2));
      const stage = {
        conv: new Conv2d(params, `up${i + 1}.conv`, { inChannels: c, outChannels: out, kernel: 3, bias: false }),
        bn: new BatchNorm(params, `up${i + 1}.bn`, { channels: out }),
      };
      c = out;
      return stage;
    });
    const outChannels = o.outChannels ?? data.channels;
    const head = new Conv2d(params, 'out', { inChannels: c, outChannels, kernel: 3, bias: true });
    return {
      params,
      dim: outChannels,
      forward({ map }, training) {
        let y = map as Tensor4D;
        for (const s of stages) y = s.bn.apply(s.conv.apply(upsample2(y)), training, true) as Tensor4D;
        y = head.apply(y);
        if (y.shape[1] !== data.height || y.shape[2] !== data.width) y = tf.slice(y, [0, 0, 0, 0], [-1, data.height, data.width, -1]);
        return o.output === 'sigmoid' ? tf.sigmoid(y) : y;
      },
    };
  },
});
