import { Type } from '@sinclair/typebox';
import { definePlugin, tf } from '../../core/index.js';

/**
 * tfjs-backend-cpu: pure JavaScript, always available, slow (use it for tiny models and exactness
 * tests). Its Conv2DBackpropFilter runs at a few MMAC/s.
 *
 * @example selfsup train --preset simclr --backend cpu
 */
export default definePlugin({
  kind: 'backend',
  name: 'cpu',
  description: 'pure-JavaScript backend (always available, slow)',
  options: Type.Object({}),
  create: () => ({
    priority: 0,
    probe: async () => {
      await import('@tensorflow/tfjs-backend-cpu');
      return { ok: true as const };
    },
    async init() {
      if (!(await tf.setBackend('cpu'))) throw new Error('tf.setBackend("cpu") failed');
      return { name: 'cpu', details: 'pure JavaScript' };
    },
  }),
});
