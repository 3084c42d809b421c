import { beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, selectBackend, tf } from '../../../cli/api.js';
import { conv2dBackpropFilterSplit, conv2dBackpropFilterSplitWhenLong } from '../../../core/engine/index.js';
import { maxAbs, maxAbsDiff, randn } from '../../helpers.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

/**
 * The split-reduction filter gradient (registered for WebGPU) is a composite of backend kernels
 * (PadV2, StridedSlice, Concat, Reshape, BatchMatMul, Sum): run here on the cpu backend's kernels
 * and compared with the cpu backend's own Conv2DBackpropFilter.
 */
describe('Conv2DBackpropFilter as a split reduction (for WebGPU)', () => {
  beforeAll(() => selectBackend(createRegistry(), 'cpu'));

  const cases: Array<[number[], number[], number, Pad]> = [
    [[16, 28, 28, 1], [3, 3, 1, 32], 1, 'same'],
    [
      [6, 14, 14, 8],
      [3, 3, 8, 16],
      2,
      [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
    ],
    [[3, 9, 11, 5], [3, 3, 5, 7], 2, 'valid'],
    [[5, 10, 7, 3], [5, 5, 3, 4], 3, 'same'],
    [[2, 7, 7, 4], [1, 1, 4, 6], 1, 'valid'],
    [[7, 12, 12, 2], [4, 2, 2, 3], 2, 'same'],
  ];
  it.each(cases.map((c, i) => [i, ...c] as const))('case %i: x %j, filter %j, stride %i, pad %j equals the cpu kernel', (i, xs, fs, stride, pad) => {
    const x = tf.tensor(randn(xs, i), xs as never) as tf.Tensor4D;
    const y = tf.conv2d(x, tf.zeros(fs as never) as tf.Tensor4D, stride, pad as never);
    const dy = tf.tensor(randn(y.shape, i + 1), y.shape) as tf.Tensor4D;
    // the cpu backend's own kernel, through the gradient of the convolution
    const ref = tf.grad((f: tf.Tensor) => tf.mul(tf.conv2d(x, f as tf.Tensor4D, stride, pad as never), dy))(tf.zeros(fs as never));
    const attrs = { strides: stride, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: fs };
    const backend = tf.backend() as unknown as { readSync(id: object): Float32Array; disposeData(id: object): void };
    for (const cfg of [conv2dBackpropFilterSplit('cpu'), conv2dBackpropFilterSplitWhenLong('cpu', tf.getKernel('Conv2DBackpropFilter', 'cpu')!)]) {
      const before = tf.memory().numDataBuffers;
      const out = cfg.kernelFunc({ inputs: { x, dy } as never, backend: backend as never, attrs: attrs as never }) as tf.TensorInfo;
      expect(out.shape).toEqual(fs);
      const got = backend.readSync(out.dataId);
      backend.disposeData(out.dataId);
      // every intermediate was freed
      expect(tf.memory().numDataBuffers).toBe(before);
      const want = ref.dataSync();
      expect(maxAbs(want)).toBeGreaterThan(0);
      expect(maxAbsDiff(got, want) / maxAbs(want)).toBeLessThan(1e-5);
    }
  });
});
