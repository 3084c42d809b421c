import { Type } from '@sinclair/typebox';
import { definePlugin } from '../../core/index.js';
import { warmupFactor } from './warmup.js';

/**
 * Constant learning rate (multiplier 1), with an optional linear warmup over `warmupEpochs`.
 *
 * @example { "type": "constant" }
 */
export default definePlugin({
  kind: 'schedule',
  name: 'constant',
  description: 'constant learning rate (optional linear warmup)',
  options: Type.Object({
    warmupEpochs: Type.Number({ default: 0, minimum: 0, description: 'linear warmup from 0 over this many epochs' }),
  }),
  create: (o) => ({
    value: ({ step, stepsPerEpoch }) => warmupFactor(step, o.warmupEpochs * stepsPerEpoch) ?? 1,
  }),
});
