import { Type } from '@sinclair/typebox';
import { definePlugin, stopGradient, type Tensor2D } from '../../core/index.js';

/**
 * Shared target: the keys are the online branch's own outputs for the views (SimCLR: both views go
 * through the same encoder and head, gradients flow through both). With `stopGradient` the keys
 * are detached (SimSiam, Chen & He 2021).
 *
 * @example { "type": "shared" }
 */
export default definePlugin({
  kind: 'target',
  name: 'shared',
  description: 'keys = the online outputs (SimCLR); optionally detached (SimSiam)',
  reference: 'SimCLR (Chen et al. 2020); SimSiam (Chen & He 2021) for stopGradient',
  options: Type.Object({
    stopGradient: Type.Boolean({ default: false, description: 'detach the keys (SimSiam)' }),
  }),
  create: (o) => ({
    readsOnline: true,
    attach: async () => {},
    keys: (_views, online) => (o.stopGradient ? online.map((t) => stopGradient(t) as Tensor2D) : online),
  }),
});
