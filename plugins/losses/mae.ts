import { Type } from '@sinclair/typebox';
import { definePlugin, readOutputs, tf, type Scalar, type Tensor, type Tensor3D, type Tensor4D } from '../../core/index.js';

/**
 * MAE's reconstruction loss (He et al. 2022, section 3): the mean squared error between the
 * decoder's pixels (online `z`, `[N, T, p·p·C]`) and the image's patches, over the masked patches
 * only (supervision `patchMask`, 1 = masked): `Σ_masked mean_pixels (z - target)² / #masked`.
 * With `normPixels` (the paper's better choice, table 1d) each target patch is normalised by its own
 * mean and (unbiased) variance. The target is the view in [0, 1] (supervision `image`).
 *
 * @example { "type": "mae", "normPixels": true }
 */
export default definePlugin({
  kind: 'loss',
  name: 'mae',
  description: 'MAE: MSE on the (per-patch normalised) pixels of the masked patches only',
  reference: 'He et al. 2022: norm_pix_loss, loss on masked patches',
  options: Type.Object({
    normPixels: Type.Boolean({ default: true, description: "normalise each target patch by its mean and variance (MAE's norm_pix_loss)" }),
  }),
  create(o) {
    return {
      viewsRead: () => ({ online: [0], target: [] }),
      compute({ online, supervision }) {
        const pred = readOutputs(online, 'z', 'online')[0] as Tensor3D;
        const image = supervision?.image as Tensor4D | undefined;
        const mask = supervision?.patchMask;
        if (!image || !mask) throw new Error("mae needs supervision 'image' and 'patchMask' from the augmenter (mask-patches)");
        if (pred.rank !== 3 || pred.shape[1] !== mask.shape[1])
          throw new Error(
            `the prediction [${pred.shape}] does not have the augmenter's ${mask.shape[1]} patches: the augmenter's patchSize must be the encoder's (a mae-decoder head gives [N, T, p·p·C])`,
          );
        const target = patchTargets(image, pred.shape[1], o.normPixels);
        const perPatch = tf.mean(tf.squaredDifference(pred, target), -1);
        return tf.div(tf.sum(tf.mul(perPatch, mask)), tf.maximum(tf.sum(mask), 1)) as Scalar;
      },
    };
  },
});

/**
 * `[N, H, W, C]` -> `[N, T, p·p·C]`: row-major patches of side p (T = (H/p)·(W/p)), pixels in
 * (row, column, channel) order, as the encoder's patch embedding flattens them.
 */
export function patchify(image: Tensor4D, tokens: number): Tensor3D {
  const [n, h, w, c] = image.shape;
  const p = Math.round(Math.sqrt((h * w) / tokens));
  const x = tf.reshape(image, [n, h / p, p, w / p, p, c]);
  return tf.reshape(tf.transpose(x, [0, 1, 3, 2, 4, 5]), [n, tokens, p * p * c]) as Tensor3D;
}

/** The reconstruction targets: the patches, each normalised by its own mean and unbiased variance (+1e-6) when `norm`. */
export function patchTargets(image: Tensor4D, tokens: number, norm: boolean): Tensor {
  const patches = patchify(image, tokens);
  if (!norm) return patches;
  const { mean, std } = patchStats(patches);
  return tf.div(tf.sub(patches, mean), std);
}

/** Each patch's mean and deviation `sqrt(unbiased variance + 1e-6)` (`[N, T, 1]`), as `normPixels` normalises by them. */
export function patchStats(patches: Tensor3D): { mean: Tensor; std: Tensor } {
  const d = patches.shape[2];
  const { mean, variance } = tf.moments(patches, -1, true);
  return { mean, std: tf.sqrt(tf.add(tf.mul(variance, d / (d - 1)), 1e-6)) };
}

/** The inverse of `patchify`: `[N, T, p·p·C]` -> `[N, H, W, C]` for an `h x w` image. */
export function unpatchify(patches: Tensor3D, h: number, w: number): Tensor4D {
  const [n, t, d] = patches.shape;
  const p = Math.round(Math.sqrt((h * w) / t));
  const c = d / (p * p);
  const x = tf.reshape(patches, [n, h / p, w / p, p, p, c]);
  return tf.reshape(tf.transpose(x, [0, 1, 3, 2, 4, 5]), [n, h, w, c]) as Tensor4D;
}
