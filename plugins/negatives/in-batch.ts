import { Type } from '@sinclair/typebox';
import { definePlugin, readOutputs, tf, type Tensor2D } from '../../core/index.js';

/**
 * In-batch negatives (SimCLR's "end-to-end" dictionary): every view of every other image in the
 * batch. The keys are all views' embeddings stacked, `[V*N, D]`, each owned by its sample's dataset
 * index, so a query never contrasts with itself or with its own image's other views. With two views
 * a query sees 2N-2 negatives: their number is tied to the batch size (MoCo's motivation).
 *
 * @example { "type": "in-batch" }
 */
export default definePlugin({
  kind: 'negatives',
  name: 'in-batch',
  description: 'the other images of the batch (all views), as SimCLR',
  reference: 'SimCLR (Chen et al. 2020): 2(N-1) negatives per anchor',
  options: Type.Object({
    branch: Type.Union([Type.Literal('online'), Type.Literal('target')], {
      default: 'online',
      description: "whose outputs are the negatives: the online branch's (SimCLR; gradients flow through them) or the target branch's (MoCo v3)",
    }),
    output: Type.String({ default: 'z', description: 'which named output' }),
  }),
  create: (o) => ({
    // reading the target's outputs only, it lets the step skip views the loss does not read
    readsOnline: o.branch === 'online',
    negatives({ online, target, index }) {
      const src = readOutputs(o.branch === 'target' ? target : online, o.output, o.branch).filter((t) => t !== undefined);
      const owner = new Int32Array(src.length * index.length);
      src.forEach((_, v) => owner.set(index, v * index.length));
      return { embeddings: tf.concat(src, 0) as Tensor2D, owner };
    },
  }),
});
