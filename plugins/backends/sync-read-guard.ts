import { SelfsupError, tf } from '../../core/index.js';

/** A synchronous read of a tensor on the GPU, refused (guardSyncReads). */
export class SyncReadError extends SelfsupError {}

const GUARDED = Symbol('selfsup.syncReadsGuarded');

/** The part of a tfjs backend the guard reads: its synchronous read, and (tfjs-backend-webgpu 4.x) its table of tensor data. */
interface ReadableBackend {
  readSync(dataId: object): unknown;
  tensorMap?: { get(dataId: object): { values?: unknown; dtype?: string } | undefined };
  [GUARDED]?: true;
}

/**
 * Refuse synchronous reads (`dataSync`, `arraySync`) of tensors on the device of the active backend
 * (WebGPU's), with a SyncReadError that says why and what to do. Why: tfjs-backend-webgpu reads
 * synchronously by copying the buffer through an OffscreenCanvas. Where that copy fails it returns
 * zeros, not an error: measured in headless Chromium on its SwiftShader adapter, where
 * `tf.sum(t).dataSync()` read 0 and `await tf.sum(t).data()` 10 (issue 17). Asking whether it
 * fails is no way out either: the failed copy left SwiftShader's device unable to create buffers.
 * Dawn in Node has no OffscreenCanvas. And everywhere such a read stalls the GPU. So on WebGPU no
 * synchronous read of device data returns at all: selfsup's step, optimizers, negative sources,
 * evaluators, pictures and checkpoints read asynchronously (`await data()`), and a plugin that reads
 * synchronously fails with the sentence instead of training on zeros. Values still held on the CPU
 * (a tensor made from an array and not yet used by a kernel; tfjs-backend-webgpu's own kernels
 * read only those) read as before. Installed once per backend instance; `name` labels the sentence.
 */
export function guardSyncReads(name: string): void {
  const backend = tf.backend() as unknown as ReadableBackend;
  if (backend[GUARDED]) return;
  const read = backend.readSync.bind(backend);
  backend.readSync = (dataId: object) => {
    const held = backend.tensorMap?.get(dataId);
    if (held && (held.values != null || held.dtype === 'string')) return read(dataId);
    throw new SyncReadError(syncReadRefusal(name));
  };
  backend[GUARDED] = true;
}

/** The sentence of a refused synchronous read. */
export function syncReadRefusal(name: string): string {
  return (
    `${name}: a synchronous read of a tensor on the GPU (dataSync, arraySync) is refused: it stalls the device, and where the browser's copy through a canvas fails it returns zeros; ` +
    'read it with `await tensor.data()` in an async hook (NegativeSource.update, an evaluator, a callback), or keep the computation on the device'
  );
}
