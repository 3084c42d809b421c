import { Type } from '@sinclair/typebox';
import { definePlugin } from '../../core/index.js';

/**
 * No target branch: predictive tasks (rotation, inpainting), or NPID whose positive comes from the
 * memory bank.
 *
 * @example { "type": "none" }
 */
export default definePlugin({
  kind: 'target',
  name: 'none',
  description: 'no key branch',
  options: Type.Object({}),
  create: () => ({ attach: async () => {}, outputs: () => undefined }),
});
