import { tf } from '../../core/index.js';

const READBACK_SIZE = 4096;

/**
 * Whether the active backend reads a tensor back synchronously (`dataSync`), as the training step
 * reads its loss, Adam its step count and the evaluators their features: the sum of 4,096 halves,
 * computed on the device (big enough that tfjs-backend-webgpu does not hand it to the CPU, which
 * it does below WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD), must read as 2048.
 * tfjs-backend-webgpu reads synchronously by copying the buffer through an OffscreenCanvas; where
 * that copy fails it returns zeros, not an error (headless Chromium on its SwiftShader adapter),
 * and where there is no OffscreenCanvas (Node on Dawn) it throws. Returns the reason it does not.
 */
export function syncReadbackProblem(): string | undefined {
  const sum = tf.tidy(() => tf.sum(tf.fill([READBACK_SIZE], 0.5)));
  try {
    const v = sum.dataSync()[0];
    return v === READBACK_SIZE / 2 ? undefined : `the sum of ${READBACK_SIZE} halves read back synchronously as ${v}, not ${READBACK_SIZE / 2}`;
  } catch (e) {
    return `a synchronous read failed (${(e as Error).message.split('\n')[0]})`;
  } finally {
    sum.dispose();
  }
}

/**
 * The sentence for a backend whose synchronous reads are wrong: selfsup reads that way in the
 * training step, so it refuses the backend rather than train on silent zeros.
 */
export function syncReadbackRefusal(name: string, problem: string): string {
  return `${name} cannot train here: ${problem}; the training step, Adam's step count and the evaluators read tensors synchronously, so training on it would be silently wrong`;
}
