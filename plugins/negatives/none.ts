import { Type } from '@sinclair/typebox';
import { definePlugin } from '../../core/index.js';

/**
 * No negatives: predictive tasks (rotation, inpainting) and non-contrastive ones (BYOL, SimSiam).
 *
 * @example { "type": "none" }
 */
export default definePlugin({
  kind: 'negatives',
  name: 'none',
  description: 'no negatives',
  options: Type.Object({}),
  create: () => ({ negatives: () => undefined }),
});
