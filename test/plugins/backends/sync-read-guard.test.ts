import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../../../cli/api.js';
import { SyncReadError, guardSyncReads } from '../../../plugins/backends/sync-read-guard.js';
import { registerDeviceReads } from './device-reads.js';

describe('guardSyncReads (both WebGPU backends install it)', () => {
  const before = tf.getBackend();
  afterAll(async () => {
    await tf.setBackend(before ?? 'cpu');
    tf.removeBackend('zeros-on-read');
  });

  it('a synchronous read of data on the device is refused with the sentence, never zeros; values still on the CPU and every asynchronous read are right', async () => {
    registerDeviceReads('zeros-on-read');
    await tf.setBackend('zeros-on-read');
    const computed = tf.add(tf.tensor1d([1, 2]), 1);
    expect([...computed.dataSync()]).toEqual([0, 0]); // unguarded: the silent zeros (as WebGPU's in headless Chromium)
    guardSyncReads('WebGPU here');
    guardSyncReads('WebGPU here'); // installed once
    expect(() => computed.dataSync()).toThrow(SyncReadError);
    expect(() => computed.arraySync()).toThrow(
      /^WebGPU here: a synchronous read of a tensor on the GPU \(dataSync, arraySync\) is refused: it stalls the device, and where the browser's copy through a canvas fails it returns zeros; read it with `await tensor.data\(\)`/,
    );
    expect([...(await computed.data())]).toEqual([2, 3]);
    expect([...tf.tensor1d([5, 6]).dataSync()]).toEqual([5, 6]); // made from an array, not yet on the device
    const used = tf.tensor1d([7, 8]);
    tf.neg(used).dispose();
    expect(() => used.dataSync()).toThrow(SyncReadError); // read by a kernel: on the device now
    tf.dispose([computed, used]);
  });

  it('leaves a backend it was not installed on alone', async () => {
    await tf.setBackend('cpu');
    expect(tf.add(tf.scalar(1), 2).dataSync()[0]).toBe(3);
  });
});
