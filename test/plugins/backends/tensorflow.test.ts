import { describe, expect, it } from 'vitest';
import { createRegistry, selectBackend, tf } from '../../../cli/api.js';
import { maxAbs, maxAbsDiff, randn, useBackend } from '../../helpers.js';

// The `tensorflow` backend (libtensorflow through @tensorflow/tfjs-node-gpu or -node, optional peers
// a user installs: their install downloads libtensorflow, which these machines cannot). Where one is
// installed this test trains through it; where neither is, it is skipped and says why.
const found = await (async () => {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(/* @vite-ignore */ pkg);
      return pkg;
    } catch {
      // not installed
    }
  }
  return undefined;
})();
if (!found) console.warn('tensorflow backend test skipped: neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed');

describe.skipIf(!found)('the tensorflow backend (libtensorflow)', () => {
  it('is chosen first under auto, and its convolution gradients equal the cpu backend', async () => {
    const registry = createRegistry();
    const choice = await selectBackend(registry, 'auto');
    expect(choice.name).toBe('tensorflow');
    expect(choice.details).toBe(found);
    const grads = (backend: string) => {
      tf.setBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor4d(randn([2, 9, 9, 3], 1), [2, 9, 9, 3]);
        const w = tf.tensor4d(randn([3, 3, 3, 5], 2), [3, 3, 3, 5]);
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf
            .conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')
            .square()
            .sum(),
        )([x, w]);
        return [dx.dataSync().slice(), dw.dataSync().slice()];
      });
    };
    const got = grads('tensorflow');
    await useBackend('cpu', registry);
    const ref = grads('cpu');
    for (let i = 0; i < 2; i++) {
      expect(maxAbs(ref[i])).toBeGreaterThan(0);
      expect(maxAbsDiff(got[i], ref[i]) / maxAbs(ref[i])).toBeLessThan(1e-4);
    }
  });
});
