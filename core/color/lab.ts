import { tf, type Tensor, type Tensor4D } from '../engine/tf.js';

/** D65 reference white of sRGB, in XYZ. */
const WHITE = [0.95047, 1.0, 1.08883];
const RGB_TO_XYZ = [
  [0.4124564, 0.3575761, 0.1804375],
  [0.2126729, 0.7151522, 0.072175],
  [0.0193339, 0.119192, 0.9503041],
];
const XYZ_TO_RGB = [
  [3.2404542, -1.5371385, -0.4985314],
  [-0.969266, 1.8760108, 0.041556],
  [0.0556434, -0.2040259, 1.0572252],
];
const EPS = (6 / 29) ** 3;

/** `[N, H, W, 3] x [3, 3]^T` per pixel. */
const mix = (x: Tensor, m: number[][]) => tf.matMul(tf.reshape(x, [-1, 3]), tf.tensor2d(m), false, true);

/**
 * sRGB in [0, 1] -> CIE L*a*b* (D65): L in [0, 100], a and b roughly in [-110, 110]. Exact sRGB
 * transfer curve and CIE f(t); `[N, H, W, 3] -> [N, H, W, 3]`.
 */
export function rgbToLab(rgb: Tensor4D): Tensor4D {
  return tf.tidy(() => {
    const c = tf.clipByValue(rgb, 0, 1);
    const lin = tf.where(tf.lessEqual(c, 0.04045), tf.div(c, 12.92), tf.pow(tf.div(tf.add(c, 0.055), 1.055), 2.4));
    const xyz = tf.div(mix(lin, RGB_TO_XYZ), tf.tensor1d(WHITE));
    const f = tf.where(tf.greater(xyz, EPS), tf.pow(tf.maximum(xyz, EPS), 1 / 3), tf.add(tf.div(xyz, 3 * (6 / 29) ** 2), 4 / 29));
    const [fx, fy, fz] = tf.split(f, 3, 1);
    const lab = tf.concat([tf.sub(tf.mul(fy, 116), 16), tf.mul(tf.sub(fx, fy), 500), tf.mul(tf.sub(fy, fz), 200)], 1);
    return tf.reshape(lab, rgb.shape) as Tensor4D;
  });
}

/** CIE L*a*b* (D65) -> sRGB in [0, 1] (clipped); inverse of `rgbToLab`. */
export function labToRgb(lab: Tensor4D): Tensor4D {
  return tf.tidy(() => {
    const [l, a, b] = tf.split(tf.reshape(lab, [-1, 3]), 3, 1);
    const fy = tf.div(tf.add(l, 16), 116);
    const f = tf.concat([tf.add(fy, tf.div(a, 500)), fy, tf.sub(fy, tf.div(b, 200))], 1);
    const xyz = tf.mul(tf.where(tf.greater(f, 6 / 29), tf.pow(f, 3), tf.mul(tf.sub(f, 4 / 29), 3 * (6 / 29) ** 2)), tf.tensor1d(WHITE));
    const lin = tf.clipByValue(mix(xyz, XYZ_TO_RGB), 0, 1);
    const rgb = tf.where(tf.lessEqual(lin, 0.0031308), tf.mul(lin, 12.92), tf.sub(tf.mul(tf.pow(lin, 1 / 2.4), 1.055), 0.055));
    return tf.reshape(tf.clipByValue(rgb, 0, 1), lab.shape) as Tensor4D;
  });
}
