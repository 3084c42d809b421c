import { Type } from '@sinclair/typebox';
import { definePlugin, lazyOutputs, stopGradient } from '../../core/index.js';

/**
 * Shared target: the target outputs are the online branch's own outputs for the views (SimCLR: both
 * views go through the same encoder and head, gradients flow through both). With `stopGradient`
 * they are detached (SimSiam, Chen & He 2021: the loss reads the online `p` and the detached `z`).
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
    // every output detached, each when first read
    outputs: (_views, online) => (o.stopGradient ? online?.map((out) => lazyOutputs(Object.keys(out), (name) => stopGradient(out[name]))) : online),
  }),
});
