import { tf } from '../tf.js';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';

interface RefCountingBackend {
  incRef(dataId: object): void;
  readSync(dataId: object): unknown;
}

/**
 * `Identity` that shares the input's data instead of copying it, as tfjs-backend-cpu's does.
 * tfjs calls Identity (through `clone`) for every tensor a gradient will need while a tape records
 * (both inputs of most binary ops), and tfjs-backend-wasm 4.22 copies each one: about 200 copies per
 * SimCLR step, tens of MB. Tensors are immutable and the backend counts references (its Reshape
 * shares data the same way), so sharing is safe. Strings are still copied.
 */
export function sharedIdentity(backendName: string): KernelConfig {
  return {
    kernelName: 'Identity',
    backendName,
    kernelFunc: function sharedIdentity({ inputs, backend }) {
      const { x } = inputs as { x: TensorInfo };
      const b = backend as unknown as RefCountingBackend;
      if (x.dtype === 'string') return tf.tensor(b.readSync(x.dataId) as string[], x.shape, 'string') as unknown as TensorInfo;
      b.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  };
}

/** Replace the backend's Identity by the sharing one. Returns whether it was replaced. */
export function registerSharedIdentity(backendName: string): boolean {
  if (tf.getKernel('Identity', backendName)) tf.unregisterKernel('Identity', backendName);
  tf.registerKernel(sharedIdentity(backendName));
  return true;
}
