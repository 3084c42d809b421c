import { Type } from '@sinclair/typebox';
import { definePlugin, tf } from '../../core/index.js';

const PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

/**
 * Native TensorFlow (libtensorflow) through `@tensorflow/tfjs-node-gpu` (CUDA) or
 * `@tensorflow/tfjs-node` (CPU): optional peer dependencies a user installs (their install script
 * downloads libtensorflow). Detected at run time; GPU first.
 *
 * @example npm install @tensorflow/tfjs-node && selfsup train --preset simclr --backend tensorflow
 */
export default definePlugin({
  kind: 'backend',
  name: 'tensorflow',
  description: 'native libtensorflow via @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node (if installed)',
  options: Type.Object({}),
  create: () => {
    let found: string | undefined;
    return {
      priority: 20,
      async probe() {
        const reasons: string[] = [];
        for (const pkg of PACKAGES) {
          try {
            await import(/* @vite-ignore */ pkg as string);
            found = pkg;
            return { ok: true as const };
          } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            reasons.push(
              code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' ? `${pkg} not installed` : `${pkg}: ${(e as Error).message.split('\n')[0]}`,
            );
          }
        }
        return { ok: false as const, reason: reasons.join(', ') };
      },
      async init() {
        if (!(await tf.setBackend('tensorflow'))) throw new Error(`${found} loaded but tf.setBackend("tensorflow") failed`);
        return { name: 'tensorflow', details: found };
      },
    };
  },
});
