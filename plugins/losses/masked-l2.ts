import { Type } from '@sinclair/typebox';
import { definePlugin, readOutputs, tf, type Scalar } from '../../core/index.js';

/**
 * Masked L2 reconstruction loss (context encoder, Pathak et al. 2016): the mean squared error
 * between the head's pixels and `supervision.image`, over the masked region only (`supervision.mask`,
 * `[N, H, W, 1]`), where the band of `overlap` pixels inside the mask's edge weighs `overlapWeight`
 * times more (the paper: 7 px, x10). Pixels outside the mask do not count.
 * `online[0].z: [N, H, W, C]` -> scalar.
 *
 * @example { "type": "masked-l2", "overlap": 2, "overlapWeight": 10 }
 */
export default definePlugin({
  kind: 'loss',
  name: 'masked-l2',
  description: 'L2 over the masked region, border band weighted up (inpainting)',
  reference: 'Pathak et al. 2016: overlap of 7 px weighted x10',
  options: Type.Object({
    overlap: Type.Integer({ default: 2, minimum: 0, description: 'width in pixels of the border band inside the mask (7 px at 128 px in the paper)' }),
    overlapWeight: Type.Number({ default: 10, minimum: 1, description: 'weight of the band relative to the interior' }),
  }),
  create: (o) => ({
    compute({ online, supervision }) {
      const image = supervision?.image;
      const mask = supervision?.mask;
      const outputs = readOutputs(online, 'z', 'online');
      if (!image || !mask) throw new Error('masked-l2 needs supervision.image and supervision.mask from the augmenter (e.g. mask-region)');
      const w = tf.tidy(() => {
        if (o.overlap === 0 || o.overlapWeight === 1) return mask;
        const k = 2 * o.overlap + 1;
        // erosion of the mask: min-pool = -maxPool(-mask); the band is mask minus its erosion
        const eroded = tf.neg(tf.maxPool(tf.neg(mask) as tf.Tensor4D, k, 1, 'same'));
        return tf.add(mask, tf.mul(tf.sub(mask, eroded), o.overlapWeight - 1));
      });
      const err = tf.square(tf.sub(outputs[0], image));
      return tf.div(tf.sum(tf.mul(err, w)), tf.maximum(tf.mul(tf.sum(w), image.shape[3]!), 1e-12)) as Scalar;
    },
  }),
});
