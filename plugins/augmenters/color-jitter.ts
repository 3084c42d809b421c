import { Type } from '@sinclair/typebox';
import { coinFlips, definePlugin, luma, perSample, selectPerSample, tf, type Tensor4D } from '../../core/index.js';

/**
 * Colour jitter (SimCLR's colour distortion, Chen et al. 2020): with probability `p`, random
 * brightness, contrast, saturation and hue changes, each factor drawn per image. Brightness
 * multiplies by b in [1-B, 1+B]; contrast blends with the image's mean grey by c in [1-C, 1+C];
 * saturation blends with the grey image by s in [1-S, 1+S]; hue rotates the chroma plane (YIQ) by
 * h*360 degrees, h in [-H, H]. Applied in that fixed order (torchvision shuffles it), clipped to
 * [0, 1] after each. Saturation and hue do nothing to 1-channel images. `[N, H, W, C] -> same`.
 *
 * @example { "type": "color-jitter", "brightness": 0.4, "contrast": 0.4, "saturation": 0.4, "hue": 0.1, "p": 0.8 }
 */
export default definePlugin({
  kind: 'augmenter',
  name: 'color-jitter',
  description: 'random brightness, contrast, saturation and hue with probability p',
  reference: 'SimCLR appendix A: strength s=1 -> 0.8s, 0.8s, 0.8s, 0.2s with p = 0.8 (s = 0.5 for CIFAR-10)',
  options: Type.Object({
    brightness: Type.Number({ default: 0.4, minimum: 0, description: 'B: factor in [1-B, 1+B]' }),
    contrast: Type.Number({ default: 0.4, minimum: 0, description: 'C: factor in [1-C, 1+C]' }),
    saturation: Type.Number({ default: 0.4, minimum: 0, description: 'S: factor in [1-S, 1+S]' }),
    hue: Type.Number({ default: 0.1, minimum: 0, maximum: 0.5, description: 'H: hue shift in [-H, H] turns' }),
    p: Type.Number({ default: 0.8, minimum: 0, maximum: 1, description: 'probability per image' }),
  }),
  create: (o) => ({
    apply(x, rng) {
      const [n, , , c] = x.shape;
      const apply = coinFlips(rng, n, o.p);
      const factor = (s: number) => rng.fill(n, (r) => r.uniform(Math.max(0, 1 - s), 1 + s));
      const b = factor(o.brightness);
      const ct = factor(o.contrast);
      const sat = factor(o.saturation);
      const hue = rng.fill(n, (r) => r.uniform(-o.hue, o.hue));
      const clip = (t: tf.Tensor) => tf.clipByValue(t, 0, 1) as Tensor4D;
      let y: Tensor4D = x;
      if (o.brightness > 0) y = clip(tf.mul(y, perSample(b)));
      if (o.contrast > 0) {
        const m = tf.mean(luma(y), [1, 2, 3], true);
        y = clip(tf.add(tf.mul(tf.sub(y, m), perSample(ct)), m));
      }
      if (c === 3 && o.saturation > 0) {
        const g = luma(y);
        y = clip(tf.add(tf.mul(tf.sub(y, g), perSample(sat)), g));
      }
      if (c === 3 && o.hue > 0) y = clip(rotateHue(y, hue));
      return { views: [selectPerSample(apply, y, x)] };
    },
  }),
});

// RGB <-> YIQ (NTSC); a hue shift is a rotation of the (I, Q) plane.
const RGB2YIQ = [
  [0.299, 0.587, 0.114],
  [0.596, -0.274, -0.322],
  [0.211, -0.523, 0.312],
];
const YIQ2RGB = [
  [1, 0.956, 0.621],
  [1, -0.272, -0.647],
  [1, -1.106, 1.703],
];

function rotateHue(x: Tensor4D, turns: Float32Array): Tensor4D {
  const [n, h, w] = x.shape;
  const mats = new Float32Array(n * 9);
  for (let b = 0; b < n; b++) {
    const th = turns[b] * 2 * Math.PI;
    const R = [
      [1, 0, 0],
      [0, Math.cos(th), -Math.sin(th)],
      [0, Math.sin(th), Math.cos(th)],
    ];
    const M = mul3(YIQ2RGB, mul3(R, RGB2YIQ)); // rgb' = M rgb
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) mats[b * 9 + j * 3 + i] = M[i][j]; // store M^T
  }
  const flat = tf.reshape(x, [n, h * w, 3]);
  return tf.reshape(tf.matMul(flat, tf.tensor3d(mats, [n, 3, 3])), [n, h, w, 3]) as Tensor4D;
}

function mul3(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
}
