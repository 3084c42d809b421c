import { Rng, makeBatch, progressAt, trainStep, type RunParts } from '../../../cli/api.js';
import { tinySimclr } from '../../helpers.js';

/** A BYOL-shaped tiny config: projector, online-only predictor, EMA target, no negatives. */
export const byolLike = (extra: Record<string, unknown> = {}) =>
  tinySimclr({
    head: { type: 'mlp', layers: 2, hiddenDim: 8, outDim: 6 }, // 6: not the encoder's 8, so a predictor reading h would not fit
    predictor: { type: 'mlp', layers: 2, hiddenDim: 8, outDim: 6 },
    target: { type: 'momentum', momentum: 0.9 },
    negatives: { type: 'none' },
    loss: { type: 'normalized-mse' },
    ...extra,
  });

/** The values of the trainable parameters whose key starts with `prefix`, copied. */
export const snapshot = (parts: RunParts, prefix: string) =>
  new Map(parts.params.filter((p) => p.key.startsWith(prefix)).map((p) => [p.key, Float32Array.from(p.variable.dataSync())]));

/** One training step on the first 16 training images, at step `at` of a 12-step run (4 per epoch). */
export async function step(parts: RunParts, at = 0, multiplier = 1) {
  const b = makeBatch(
    parts.data.train,
    parts.info,
    Int32Array.from({ length: 16 }, (_, i) => i),
  );
  const r = await trainStep(parts, b, Rng.fromSeed(at), multiplier, progressAt(at, 12, 4));
  b.x.dispose();
  return r;
}
