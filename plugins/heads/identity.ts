import { Type } from '@sinclair/typebox';
import { ParamStore, definePlugin } from '../../core/index.js';

/**
 * Identity head: `z = h` (`[N, D] -> [N, D]`). SimCLR's "no projection" ablation; NPID's default.
 *
 * @example { "type": "identity" }
 */
export default definePlugin({
  kind: 'head',
  name: 'identity',
  description: 'z = h (no projection)',
  options: Type.Object({}),
  create: (_o, ctx) => ({ params: new ParamStore('identity'), dim: ctx.inputDim ?? 0, forward: (input) => input[ctx.input ?? 'h'] }),
});
