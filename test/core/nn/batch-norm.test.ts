import { beforeAll, describe, expect, it } from 'vitest';
import { BatchNorm, ParamStore, tf } from '../../../cli/api.js';
import { maxAbsDiff, randn, useBackend } from '../../helpers.js';

describe('BatchNorm (fused, channels-last)', () => {
  beforeAll(() => useBackend('cpu'));

  it('training mode: output, input/scale/shift gradients equal tfjs ops on the same formula; running stats follow PyTorch', () => {
    const store = new ParamStore('bn');
    const bn = new BatchNorm(store, 'bn', { channels: 3, momentum: 0.1 });
    tf.tidy(() => {
      bn.gamma!.assign(tf.tensor1d([1.5, -0.5, 2]));
      bn.beta!.assign(tf.tensor1d([0.1, 0.2, -0.3]));
    });
    const x = tf.tensor4d(randn([4, 5, 5, 3], 7), [4, 5, 5, 3]);
    const dy = tf.tensor4d(randn([4, 5, 5, 3], 8), [4, 5, 5, 3]);
    for (const relu of [false, true]) {
      const reference = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(xx, [0, 1, 2]);
        const y = tf.add(tf.mul(tf.div(tf.sub(xx, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
        return relu ? tf.relu(y) : y;
      };
      const g0 = bn.gamma!.clone();
      const b0 = bn.beta!.clone();
      const refOut = tf.tidy(() => reference(x, g0, b0).dataSync());
      const ourOut = tf.tidy(() => bn.apply(x, true, relu).dataSync());
      expect(maxAbsDiff(ourOut, refOut)).toBeLessThan(1e-5);
      const rg = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => reference(a, g, b))([x, g0, b0], dy);
      const og = tf.variableGrads(() => tf.sum(tf.mul(bn.apply(x, true, relu), dy)) as tf.Scalar, [bn.gamma!, bn.beta!]);
      const ogx = tf.grad((a: tf.Tensor) => bn.apply(a, true, relu))(x, dy);
      expect(maxAbsDiff(ogx.dataSync(), rg[0].dataSync())).toBeLessThan(1e-4);
      expect(maxAbsDiff(og.grads[bn.gamma!.name].dataSync(), rg[1].dataSync())).toBeLessThan(1e-4);
      expect(maxAbsDiff(og.grads[bn.beta!.name].dataSync(), rg[2].dataSync())).toBeLessThan(1e-4);
    }
    // running stats after 6 training-mode calls on the same x (3 per loop): (1-m)^6 of the initial (0, 1) remains
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const n = 100;
    const unbiased = tf.mul(variance, n / (n - 1));
    const calls = 2 * 3; // per loop: forward, variableGrads, grad
    const decay = 0.9 ** calls;
    expect(maxAbsDiff(bn.runningMean.dataSync(), tf.mul(mean, 1 - decay).dataSync())).toBeLessThan(1e-5);
    expect(maxAbsDiff(bn.runningVar.dataSync(), tf.add(decay, tf.mul(unbiased, 1 - decay)).dataSync())).toBeLessThan(1e-5);
  });
});
