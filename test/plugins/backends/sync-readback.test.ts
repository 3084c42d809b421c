import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../../../cli/api.js';
import { syncReadbackProblem, syncReadbackRefusal } from '../../../plugins/backends/sync-readback.js';

/** A cpu backend under another name whose synchronous reads go wrong as `read` says (tfjs-backend-webgpu's do in headless Chromium). */
function registerBrokenReads(name: string, read: () => Float32Array) {
  class Broken extends MathBackendCPU {
    override readSync(): Float32Array {
      return read();
    }
  }
  tf.registerBackend(name, () => new Broken());
  for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: name });
}

describe('syncReadbackProblem (the WebGPU backends refuse to train when it finds one)', () => {
  const before = tf.getBackend();
  afterAll(async () => {
    await tf.setBackend(before ?? 'cpu');
    for (const name of ['zeros-on-read', 'throws-on-read']) tf.removeBackend(name);
  });

  it('finds none on the cpu backend, zeros where reads return zeros, and the error where they throw', async () => {
    await tf.setBackend('cpu');
    expect(syncReadbackProblem()).toBeUndefined();

    registerBrokenReads('zeros-on-read', () => new Float32Array(1));
    await tf.setBackend('zeros-on-read');
    expect(syncReadbackProblem()).toBe('the sum of 4096 halves read back synchronously as 0, not 2048');

    registerBrokenReads('throws-on-read', () => {
      throw new ReferenceError('OffscreenCanvas is not defined');
    });
    await tf.setBackend('throws-on-read');
    const tensorsBefore = tf.memory().numTensors;
    expect(syncReadbackProblem()).toBe('a synchronous read failed (OffscreenCanvas is not defined)');
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(syncReadbackRefusal('WebGPU', 'the sum of 4096 halves read back synchronously as 0, not 2048')).toBe(
      "WebGPU cannot train here: the sum of 4096 halves read back synchronously as 0, not 2048; the training step, Adam's step count and the evaluators read tensors synchronously, so training on it would be silently wrong",
    );
  });
});
