import { Type } from '@sinclair/typebox';
import { definePlugin, type Progress } from '../../core/index.js';
import { warmupFactor } from './warmup.js';

/**
 * Cosine decay with linear warmup (SGDR, Loshchilov & Hutter 2017; SimCLR): the multiplier rises
 * linearly to 1 over `warmupEpochs`, then follows (1 + cos(pi t)) / 2 down to `final` at the last step.
 *
 * @example { "type": "cosine", "warmupEpochs": 10 }
 */
export default definePlugin({
  kind: 'schedule',
  name: 'cosine',
  description: 'linear warmup, then cosine decay to `final`',
  reference: 'SimCLR: 10 warmup epochs, cosine decay without restarts',
  options: Type.Object({
    warmupEpochs: Type.Number({ default: 0, minimum: 0, description: 'linear warmup length in epochs (fractions allowed)' }),
    final: Type.Number({ default: 0, minimum: 0, maximum: 1, description: 'multiplier at the end of training' }),
  }),
  create: (o) => ({ value: (p) => cosineFactor(p, o) }),
});

/**
 * The cosine schedule's multiplier at a point of training: the linear warm-up over `warmupEpochs`
 * (`warmupFactor`, at most the whole run), then (1 + cos(pi t)) / 2 from 1 down to `final`, t going
 * from 0 after the warm-up to 1 at the end. Also the fine-tune evaluator's learning rate.
 */
export function cosineFactor(
  { step, totalSteps, stepsPerEpoch }: Pick<Progress, 'step' | 'totalSteps' | 'stepsPerEpoch'>,
  o: { warmupEpochs: number; final: number },
): number {
  const warm = Math.min(o.warmupEpochs * stepsPerEpoch, totalSteps);
  const warming = warmupFactor(step, warm);
  if (warming !== undefined) return warming;
  const t = totalSteps > warm ? Math.min(1, (step - warm) / (totalSteps - warm)) : 1;
  return o.final + (1 - o.final) * 0.5 * (1 + Math.cos(Math.PI * t));
}
