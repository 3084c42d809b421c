import { Type } from '@sinclair/typebox';
import { definePlugin } from '../../core/index.js';

/**
 * Step decay: the multiplier is gamma^(number of milestones passed), milestones in epochs or as
 * fractions of training (MoCo v1: lr x0.1 at epochs 120 and 160 of 200, i.e. 0.6 and 0.8).
 *
 * @example { "type": "step", "milestones": [0.6, 0.8], "unit": "fraction", "gamma": 0.1 }
 */
export default definePlugin({
  kind: 'schedule',
  name: 'step',
  description: 'multiply by gamma at each milestone epoch',
  reference: 'MoCo v1: x0.1 at epochs 120 and 160',
  options: Type.Object({
    milestones: Type.Array(Type.Number({ minimum: 0 }), { default: [], description: 'where the rate drops, in `unit`s' }),
    unit: Type.Union([Type.Literal('epochs'), Type.Literal('fraction')], {
      default: 'epochs',
      description: 'milestones in epochs, or as fractions of training (0.6 = 60% of the steps)',
    }),
    gamma: Type.Number({ default: 0.1, exclusiveMinimum: 0 }),
    warmupEpochs: Type.Number({ default: 0, minimum: 0 }),
  }),
  create: (o) => ({
    value: ({ step, stepsPerEpoch, totalSteps }) => {
      const warm = o.warmupEpochs * stepsPerEpoch;
      if (warm > 0 && step < warm) return (step + 1) / warm;
      const at = o.unit === 'epochs' ? step / stepsPerEpoch : step / totalSteps;
      return o.gamma ** o.milestones.filter((m) => at >= m).length;
    },
  }),
});
