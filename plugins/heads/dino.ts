import { Type } from '@sinclair/typebox';
import {
  BatchNorm,
  ParamStore,
  constant,
  definePlugin,
  gelu,
  kaimingUniform,
  l2Normalize,
  tf,
  type Initializer,
  type Tensor,
  type Tensor2D,
} from '../../core/index.js';

/**
 * DINO's projection head (Caron et al. 2021, "Emerging Properties in Self-Supervised Vision
 * Transformers"; `DINOHead` of the official code). For the input x `[N, D]` (the encoder's `h`):
 *
 *   y = MLP(x)                      `layers` linear layers, GELU between them (optionally batch norm
 *                                   before each GELU): D -> hidden -> hidden -> bottleneck
 *   u = y / ||y||                   the bottleneck, L2-normalised
 *   z = u W,  W[:, k] = g_k v_k / ||v_k||    a weight-normalised linear layer without bias, `[N, K]`
 *
 * `z` are the logits the `dino` loss turns into teacher and student distributions over K outputs.
 * The last layer is a weight norm (`nn.utils.weight_norm`): its trained parameters are the
 * direction v `[bottleneck, K]` (parameter `last.v`) and, without `normLastLayer`, the gain g `[K]`
 * (`last.g`, initialised to 1, not decayed). With `normLastLayer` (the default, as the official
 * `norm_last_layer=True`) g is fixed at 1: every output unit is a unit vector, so z[n, k] is the
 * cosine of the bottleneck with v_k. The normalisation is in the forward pass (the gradient goes
 * through it), not a projection after the step.
 *
 * DINO freezes the last layer during the first epoch (`freeze_last_layer` = 1 in the official code:
 * its gradients are dropped): that is a parameter group, not this head:
 * `"paramGroups": [{ "match": "tasks/main/head/last.*", "frozenEpochs": 1 }]`.
 *
 * Initialisation as the official code: the MLP's weights N(0, 0.02²) (`trunc_normal_(std=.02)`,
 * whose bounds ±2 are absolute, so in effect untruncated), biases 0; v PyTorch's default for a
 * linear layer, U(±1/sqrt(bottleneck)).
 *
 * Defaults are the paper's (hidden 2048, bottleneck 256, K 65536 for ImageNet); small data and a
 * small encoder want less (the `dino` preset: 512, 128 and K = 1024).
 *
 * @example { "type": "dino", "hiddenDim": 512, "bottleneckDim": 128, "outDim": 1024 }
 */
export default definePlugin({
  kind: 'head',
  name: 'dino',
  description: 'DINO head: MLP with GELU to an L2-normalised bottleneck, then a weight-normalised linear layer to K logits',
  reference: 'DINO (Caron et al. 2021): 3 layers, hidden 2048, bottleneck 256, K = 65536, norm_last_layer, no batch norm',
  options: Type.Object({
    layers: Type.Integer({ default: 3, minimum: 1, description: 'linear layers of the MLP before the bottleneck (1: one linear layer to the bottleneck)' }),
    hiddenDim: Type.Integer({ default: 2048, minimum: 1, description: 'width of the hidden layers' }),
    bottleneckDim: Type.Integer({ default: 256, minimum: 1, description: 'size of the L2-normalised bottleneck' }),
    outDim: Type.Integer({ default: 65536, minimum: 1, description: 'K, the number of output logits z' }),
    batchNorm: Type.Boolean({ default: false, description: 'batch norm after each hidden linear layer, before the GELU (the official use_bn_in_head)' }),
    normLastLayer: Type.Boolean({
      default: true,
      description: 'fix the last layer gain g at 1 (unit-norm output units); false: g is trained, initialised to 1',
    }),
  }),
  create(o, ctx) {
    if (!ctx.inputDim) throw new Error(`${ctx.path}: the dino head needs the size of its input (the encoder dimension)`);
    const name = ctx.input ?? 'h';
    const params = new ParamStore('dino-head', ctx.rng);
    const dims = [ctx.inputDim, ...Array<number>(o.layers - 1).fill(o.hiddenDim), o.bottleneckDim];
    const mlp = dims.slice(1).map((out, i) => {
      const hidden = i < o.layers - 1;
      return {
        weight: params.add(`fc${i + 1}.weight`, [dims[i], out], { init: normal(0.02) }),
        bias: params.add(`fc${i + 1}.bias`, [out], { init: constant(0), decay: false }),
        bn: hidden && o.batchNorm ? new BatchNorm(params, `bn${i + 1}`, { channels: out }) : undefined,
        hidden,
      };
    });
    const v = params.add('last.v', [o.bottleneckDim, o.outDim], { init: kaimingUniform(o.bottleneckDim) });
    const g = o.normLastLayer ? undefined : params.add('last.g', [o.outDim], { init: constant(1), decay: false });
    return {
      params,
      dim: o.outDim,
      forward(input, training) {
        let y = input[name] as Tensor2D | undefined;
        if (y === undefined) throw new Error(`${ctx.path}: the dino head reads '${name}', but the branch produces ${Object.keys(input).join(', ')}`);
        for (const l of mlp) {
          y = tf.add(tf.matMul(y, l.weight as Tensor2D), l.bias) as Tensor2D;
          if (l.bn) y = l.bn.apply(y, training) as Tensor2D;
          if (l.hidden) y = gelu(y) as Tensor2D;
        }
        return tf.matMul(l2Normalize(y) as Tensor2D, weightNormColumns(v, g) as Tensor2D);
      },
    };
  },
});

/**
 * The weight-normalised matrix `[D, K]`: column k is v_k / ||v_k||, times g_k when a gain is given
 * (`nn.utils.weight_norm` over the output units; PyTorch's `[K, D]` weight is this transposed).
 */
export function weightNormColumns(v: Tensor, g?: Tensor): Tensor {
  const unit = tf.div(v, tf.maximum(tf.norm(v, 'euclidean', 0, true), 1e-12));
  return g ? tf.mul(unit, tf.reshape(g, [1, -1])) : unit;
}

/** N(0, std²), redrawn outside [-2, 2] (PyTorch's `trunc_normal_(std=std)`, whose bounds are absolute). */
const normal =
  (std: number): Initializer =>
  (size, rng) => {
    if (!rng) throw new Error('the dino head needs an RNG to initialise its weights');
    return rng.fill(size, (r) => {
      for (;;) {
        const x = r.normal() * std;
        if (Math.abs(x) <= 2) return x;
      }
    });
  };
