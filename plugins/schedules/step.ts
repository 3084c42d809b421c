import { Type } from '@sinclair/typebox';
import { definePlugin } from '../../core/index.js';

/**
 * Step decay: the multiplier is gamma^(number of milestones passed), milestones in epochs
 * (MoCo v1: lr x0.1 at epochs 120 and 160 of 200).
 *
 * @example { "type": "step", "milestones": [120, 160], "gamma": 0.1 }
 */
export default definePlugin({
  kind: 'schedule',
  name: 'step',
  description: 'multiply by gamma at each milestone epoch',
  reference: 'MoCo v1: x0.1 at epochs 120 and 160',
  options: Type.Object({
    milestones: Type.Array(Type.Number({ minimum: 0 }), { default: [], description: 'epochs at which the rate drops' }),
    gamma: Type.Number({ default: 0.1, exclusiveMinimum: 0 }),
    warmupEpochs: Type.Number({ default: 0, minimum: 0 }),
  }),
  create: (o) => ({
    value: ({ step, stepsPerEpoch }) => {
      const warm = o.warmupEpochs * stepsPerEpoch;
      if (warm > 0 && step < warm) return (step + 1) / warm;
      const epoch = step / stepsPerEpoch;
      return o.gamma ** o.milestones.filter((m) => epoch >= m).length;
    },
  }),
});
