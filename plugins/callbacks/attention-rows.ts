import { normalizeImages, readImages, tf, type DatasetInfo, type ImageSet, type TaskRuntime, type Tensor4D } from '../../core/index.js';

/**
 * DINO's picture for the images `idx` of `set`: one row per image, the image then where the `cls`
 * token of the encoder's last block looks, one map per head (see `clsAttentionRows`), or undefined
 * when the encoder gives no `attention` output (only a `vit` does). Portable: the attention-maps
 * callback writes the rows as a PNG, the browser playground draws them. The caller disposes the rows.
 */
export async function attentionRows(
  task: Pick<TaskRuntime, 'augmenter' | 'branch'>,
  set: ImageSet,
  info: DatasetInfo,
  idx: Int32Array,
): Promise<Tensor4D[] | undefined> {
  const x = await readImages(set, info, idx);
  const rows = tf.tidy(() => {
    const seen = task.augmenter.evalView?.(x) ?? x;
    const attention = task.branch.encoder.forward(normalizeImages(seen, info), false).attention;
    if (!attention || attention.rank !== 4) return undefined;
    return clsAttentionRows(x, attention as Tensor4D);
  });
  x.dispose();
  return rows;
}

/**
 * Per image `[1 + heads, H, W, C]`: the image, then each head's attention from `cls` to the patches
 * (`attention[:, head, 0, 1:]` on the patch grid), min-max scaled per map, nearest-upsampled to H x W.
 */
export function clsAttentionRows(images: Tensor4D, attention: Tensor4D): Tensor4D[] {
  const [n, h, w, c] = images.shape;
  const [, heads, len] = attention.shape;
  const t = len - 1;
  const side = Math.round(Math.sqrt(t));
  const gh = side;
  const gw = t / side;
  const fromCls = tf.reshape(tf.slice(attention, [0, 0, 0, 1], [n, heads, 1, t]), [n * heads, t]);
  const lo = tf.min(fromCls, 1, true);
  const hi = tf.max(fromCls, 1, true);
  const scaled = tf.div(tf.sub(fromCls, lo), tf.maximum(tf.sub(hi, lo), 1e-12));
  const maps = tf.image.resizeNearestNeighbor(tf.reshape(scaled, [n * heads, gh, gw, 1]) as Tensor4D, [h, w]);
  const coloured = tf.reshape(c === 1 ? maps : tf.tile(maps, [1, 1, 1, c]), [n, heads, h, w, c]);
  return Array.from({ length: n }, (_, i) =>
    tf.concat([tf.slice(images, [i, 0, 0, 0], [1, h, w, c]), tf.reshape(tf.slice(coloured, [i, 0, 0, 0, 0], [1, heads, h, w, c]), [heads, h, w, c])], 0),
  ) as Tensor4D[];
}
