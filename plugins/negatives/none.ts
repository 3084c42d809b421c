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
  // reads nothing, so a loss's `viewsRead` decides what is encoded (DINO: only the global views through the teacher)
  create: () => ({ negatives: () => undefined, readsOnline: false }),
});
