import { Type } from '@sinclair/typebox';
import { Dense, ParamStore, definePlugin, l2Normalize, tf, type Tensor, type Tensor2D, type Variable } from '../../core/index.js';

/**
 * SwAV's prototypes (Caron et al. 2020, "Unsupervised Learning of Visual Features by Contrasting
 * Cluster Assignments"): K trainable prototype vectors c_1..c_K of unit norm, the columns of
 * W `[D, K]` (parameter `prototypes.weight`, a Dense without bias). For the input z `[N, D]`:
 *
 *   scores = normalise(z) W        `[N, K]`, scores[n, k] = cos(z_n, c_k) in [-1, 1]
 *
 * It follows the projector in a `sequence` head, reading `z` (`PluginContext.input`, the previous
 * stage's output), and its output, the prototype scores, is what the `swav` loss reads. After every optimizer
 * step (`afterStep`) and at creation, each prototype is projected back onto the unit sphere,
 * W[:, k] <- W[:, k] / ||W[:, k]||, as the official code does before each forward pass.
 *
 * SwAV also freezes the prototypes during the first epoch (`freeze_prototypes_niters` = 313 in the
 * official code: their gradient is dropped): that is the framework's parameter groups, not this
 * head: a parameter group matching `tasks/main/head/scores/prototypes.weight` with `"frozenEpochs": 1`
 * (or `frozenUntil`).
 *
 * Default K: the paper uses 3000 prototypes on ImageNet (solo-learn keeps 3000 on CIFAR-10, with a
 * queue of 3840 features). Sinkhorn spreads each batch equally over the K prototypes; without a
 * queue, a batch of 64 to 256 images cannot meaningfully fill 3000 of them, so the default here is
 * scaled down to 100 (10 classes, small batches, no queue). The paper reports the number of
 * prototypes matters little as long as there are enough of them.
 *
 * @example "head": { "type": "sequence", "stages": [{ "name": "z", "head": { "type": "mlp" } }, { "name": "scores", "head": { "type": "prototypes", "count": 100 } }] }
 */
export default definePlugin({
  kind: 'head',
  name: 'prototypes',
  description: 'SwAV prototypes: cosine scores of the normalised input against K unit-norm prototype vectors',
  reference: 'SwAV (Caron et al. 2020): 3000 prototypes on ImageNet; 100 here, scaled to small data without a queue',
  options: Type.Object({
    count: Type.Integer({ default: 100, minimum: 1, description: 'number of prototypes K (the size of the output)' }),
  }),
  create(o, ctx) {
    if (!ctx.inputDim) throw new Error(`${ctx.path}: the prototypes head needs the size of its input (the head's output z)`);
    const name = ctx.input ?? 'z';
    const params = new ParamStore('prototypes-head', ctx.rng);
    const layer = new Dense(params, 'prototypes', { inFeatures: ctx.inputDim, outFeatures: o.count, bias: false });
    const normalise = () => normaliseColumns(layer.weight);
    normalise();
    return {
      params,
      dim: o.count,
      forward(input) {
        const x = input[name];
        if (x === undefined) throw new Error(`${ctx.path}: the prototypes head reads '${name}', but the branch produces ${Object.keys(input).join(', ')}`);
        return layer.apply(l2Normalize(x) as Tensor2D);
      },
      afterStep: normalise,
    };
  },
});

/** W[:, k] <- W[:, k] / ||W[:, k]|| in place (no gradient: an assignment outside the tape). */
export function normaliseColumns(w: Variable, eps = 1e-12): void {
  tf.tidy(() => {
    const norm = tf.maximum(tf.norm(w as Tensor, 'euclidean', 0, true), eps);
    w.assign(tf.div(w, norm));
  });
}
