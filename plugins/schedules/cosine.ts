import { Type } from '@sinclair/typebox';
import { definePlugin } from '../../core/index.js';

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
  create: (o) => ({
    value: ({ step, totalSteps, stepsPerEpoch }) => {
      const warm = Math.min(o.warmupEpochs * stepsPerEpoch, totalSteps);
      if (warm > 0 && step < warm) return (step + 1) / warm;
      const t = totalSteps > warm ? Math.min(1, (step - warm) / (totalSteps - warm)) : 1;
      return o.final + (1 - o.final) * 0.5 * (1 + Math.cos(Math.PI * t));
    },
  }),
});
