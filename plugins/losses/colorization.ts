import { Type } from '@sinclair/typebox';
import { definePlugin, readOutputs, rgbToLab, tf, type Scalar, type Tensor, type Variable } from '../../core/index.js';

/**
 * The ab bins: every cell of a `grid`-spaced ab grid (a, b in [-110, 110)) that some sRGB colour
 * falls in. The Lab image of the sRGB cube projects onto the ab plane as its surface does (every
 * colour inside lies between two surface colours of the same ab along L), so the six faces of the
 * cube are sampled, 257 x 257 each: the count converges there (257 to 2049 steps per side all give
 * 268 at grid 10, where sampling the whole cube at 33^3 missed 4 thin edge cells and gave 264).
 * Zhang et al.'s table has 313, which is not available here; their gamut test evidently admits more
 * cells than the sRGB cube reaches. Deterministic, so a preset can name the count. Returns the bin
 * centres `[Q, 2]` (unscaled ab).
 */
export function gamutBins(grid: number): Float32Array {
  let bins = binCache.get(grid);
  if (!bins) binCache.set(grid, (bins = deriveBins(grid)));
  return bins;
}
const binCache = new Map<number, Float32Array>();

function deriveBins(grid: number): Float32Array {
  const steps = 257;
  const v = new Float32Array(6 * steps * steps * 3);
  let k = 0;
  for (let i = 0; i < steps; i++)
    for (let j = 0; j < steps; j++) {
      const u = i / (steps - 1),
        w = j / (steps - 1);
      for (const c of [
        [0, u, w],
        [1, u, w],
        [u, 0, w],
        [u, 1, w],
        [u, w, 0],
        [u, w, 1],
      ])
        for (const x of c) v[k++] = x;
    }
  const lab = tf.tidy(() => rgbToLab(tf.tensor4d(v, [1, 1, v.length / 3, 3])).dataSync());
  const cells = new Set<number>();
  const n = Math.ceil(220 / grid);
  for (let i = 0; i < lab.length; i += 3) {
    const ia = Math.floor((lab[i + 1] + 110) / grid);
    const ib = Math.floor((lab[i + 2] + 110) / grid);
    if (ia >= 0 && ia < n && ib >= 0 && ib < n) cells.add(ia * n + ib);
  }
  const sorted = [...cells].sort((x, y) => x - y);
  const centres = new Float32Array(sorted.length * 2);
  sorted.forEach((c, i) => {
    centres[2 * i] = -110 + (Math.floor(c / n) + 0.5) * grid;
    centres[2 * i + 1] = -110 + ((c % n) + 0.5) * grid;
  });
  return centres;
}

/**
 * Colorization loss (Zhang, Isola & Efros 2016) on `supervision.ab` (from lab-split, scaled by
 * `abScale`), in two forms:
 * - `regression`: L2 between the head's `[N, H, W, 2]` output and ab (the baseline of the paper).
 * - `classification`: the head outputs logits over Q in-gamut ab bins `[N, H, W, Q]`; each pixel's
 *   target is a soft encoding on its 5 nearest bins (Gaussian, sigma = 5), and pixels are
 *   re-weighted by the rarity of their colour, w proportional to ((1 - gamma) p + gamma / Q)^-1
 *   with E_p[w] = 1 (gamma = 0.5), p the smoothed empirical bin distribution, here accumulated over
 *   the batches seen (the paper measures it once on ImageNet). The bins: `gamutBins`.
 *
 * @example { "type": "colorization", "mode": "classification" }
 */
export default definePlugin({
  kind: 'loss',
  name: 'colorization',
  description: 'colour prediction from lightness: ab regression, or soft-encoded bin classification with rebalancing',
  reference: 'Zhang et al. 2016: 313 bins (grid 10), 5-NN soft encoding with sigma 5, rebalancing lambda 0.5',
  options: Type.Object({
    mode: Type.Union([Type.Literal('regression'), Type.Literal('classification')], { default: 'classification' }),
    grid: Type.Number({ default: 10, exclusiveMinimum: 0, description: 'ab grid spacing of the bins' }),
    sigma: Type.Number({ default: 5, exclusiveMinimum: 0, description: 'Gaussian of the soft encoding and of the prior smoothing (ab units)' }),
    neighbours: Type.Integer({ default: 5, minimum: 1, description: 'bins each pixel is soft-encoded on' }),
    gamma: Type.Number({ default: 0.5, minimum: 0, maximum: 1, description: 'mix of the uniform distribution in the rebalancing weights' }),
    abScale: Type.Number({ default: 110, exclusiveMinimum: 0, description: 'the scale lab-split divided ab by' }),
  }),
  create(o) {
    if (o.mode === 'regression') {
      return {
        compute({ online, supervision }) {
          const ab = need(supervision?.ab);
          const outputs = readOutputs(online, 'z', 'online');
          if (outputs[0].shape[3] !== 2)
            throw new Error(`regression colorization needs a head with 2 output channels (head.outChannels=2), got ${outputs[0].shape[3]}`);
          return tf.mean(tf.square(tf.sub(outputs[0], ab))) as Scalar;
        },
      };
    }
    const centres = gamutBins(o.grid);
    const q = centres.length / 2;
    const bins = tf.keep(tf.tensor2d(centres, [q, 2]));
    // bin-to-bin Gaussian smoothing of the prior, and its running counts
    const smooth = tf.keep(
      tf.tidy(() => {
        const d2 = tf.sum(tf.square(tf.sub(tf.expandDims(bins, 1), tf.expandDims(bins, 0))), 2);
        const k = tf.exp(tf.div(tf.neg(d2), 2 * o.sigma * o.sigma));
        return tf.div(k, tf.sum(k, 1, true));
      }),
    );
    const counts: Variable = tf.variable(tf.zeros([q]), false);
    // this step's soft counts, added to the prior after the step (outside the gradient tape)
    let pending: Tensor | undefined;
    return {
      compute({ online, supervision }) {
        const ab = need(supervision?.ab);
        const logits = readOutputs(online, 'z', 'online')[0];
        if (logits.shape[3] !== q)
          throw new Error(`classification colorization uses ${q} ab bins at grid ${o.grid}: set head.outChannels=${q} (got ${logits.shape[3]})`);
        // soft encoding on the nearest bins, in JavaScript: it needs no gradient, and tfjs's
        // broadcasting kernels on the CPU backends take seconds on [P, Q] (P = 65,536 pixels at
        // batch 64 and 32x32, Q = 268 bins)
        const enc = softEncode(ab.dataSync() as Float32Array, o.abScale, centres, o.neighbours, o.sigma);
        const target = tf.tensor2d(enc.target, [enc.pixels, q]);
        // rebalancing weights from the smoothed prior of the pixels seen so far (this batch included)
        const batchCounts = tf.tensor1d(enc.counts);
        pending?.dispose();
        pending = tf.keep(batchCounts);
        const seen = tf.add(counts, batchCounts);
        const prior = tf.matMul(tf.reshape(tf.div(seen, tf.sum(seen)), [1, q]), smooth);
        const inv = tf.pow(tf.add(tf.mul(prior, 1 - o.gamma), o.gamma / q), -1);
        const weights = tf.div(inv, tf.sum(tf.mul(prior, inv))); // E_prior[w] = 1
        const pixelW = tf.gather(tf.reshape(weights, [q]), tf.tensor1d(enc.nearest, 'int32'));
        const ce = tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(tf.reshape(logits, [-1, q]))), 1));
        return tf.mean(tf.mul(ce, pixelW)) as Scalar;
      },
      afterStep() {
        if (!pending) return;
        const p = pending;
        pending = undefined;
        tf.tidy(() => counts.assign(tf.add(counts, p)));
        p.dispose();
      },
      state: () => new Map([['prior_counts', counts]]),
    };
  },
});

function need(ab: Tensor | undefined): Tensor {
  if (!ab) throw new Error('colorization needs supervision.ab from the augmenter (lab-split)');
  return ab;
}

/**
 * Each pixel's soft encoding over the bins: a Gaussian of the ab distance (`sigma`) on its `k`
 * nearest bins (ties to the lower bin index), 0 elsewhere, summing to 1. `ab` is `[P, 2]` as the
 * augmenter gives it (ab / abScale); `centres` `[Q, 2]` in ab units. Also the nearest bin of each
 * pixel and the column sums (the batch's soft counts for the prior).
 */
export function softEncode(ab: Float32Array, abScale: number, centres: ArrayLike<number>, k: number, sigma: number) {
  const pixels = ab.length / 2;
  const q = centres.length / 2;
  const kk = Math.min(k, q);
  const target = new Float32Array(pixels * q);
  const nearest = new Int32Array(pixels);
  const counts = new Float32Array(q);
  const bestD = new Float64Array(kk);
  const bestI = new Int32Array(kk);
  const twoSigma2 = 2 * sigma * sigma;
  for (let p = 0; p < pixels; p++) {
    const a = ab[2 * p] * abScale;
    const b = ab[2 * p + 1] * abScale;
    let n = 0;
    for (let j = 0; j < q; j++) {
      const da = a - centres[2 * j];
      const db = b - centres[2 * j + 1];
      const d = da * da + db * db;
      if (n === kk && d >= bestD[kk - 1]) continue;
      // insertion into the sorted k best (strict <: an equal distance keeps the lower index first)
      let i = n < kk ? n++ : kk - 1;
      while (i > 0 && bestD[i - 1] > d) {
        bestD[i] = bestD[i - 1];
        bestI[i] = bestI[i - 1];
        i--;
      }
      bestD[i] = d;
      bestI[i] = j;
    }
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.exp(-bestD[i] / twoSigma2);
    const row = p * q;
    for (let i = 0; i < n; i++) {
      const w = Math.exp(-bestD[i] / twoSigma2) / sum;
      target[row + bestI[i]] = w;
      counts[bestI[i]] += w;
    }
    nearest[p] = bestI[0];
  }
  return { pixels, target, nearest, counts };
}
