/**
 * Recycled output buffers for the native kernels. A fresh Float32Array costs more than the
 * element-wise kernel that fills it: calloc zeroes it, and its pages fault in on first write
 * (measured, a [8320, 192] negation: 0.80 ms with a new array, 0.08 ms into a reused one). V8 frees
 * an array only when it collects it; tfjs says much earlier that a tensor is dead (disposeData).
 * So the native backend hands each dead output of its kernels back here, and the next output of
 * that length takes it.
 *
 * A buffer is never recycled while anything else may see it:
 * - a buffer whose values were read (`dataSync`, `data`: readSync/read hand out the array itself,
 *   which a caller may keep after disposing the tensor) is pinned: left to the GC;
 * - a buffer another tensor views (a cpu kernel's `subarray` slice) is pinned;
 * - a buffer held by two tensors' data is recycled when the last lets go.
 * Kernels that take a pooled buffer write every element of it.
 */
export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  /** buffers of ours -> how many tensor data entries hold them */
  private readonly holders = new WeakMap<ArrayBuffer, number>();
  private readonly pinned = new WeakSet<ArrayBuffer>();
  private freeBytes = 0;

  constructor(private readonly maxFreeBytes: number) {}

  /** A buffer of n floats: a recycled one (stale contents: the caller overwrites all of it) or a new one. */
  take(n: number): Float32Array {
    const list = this.free.get(n);
    const a = list?.pop();
    if (a) {
      this.freeBytes -= a.byteLength;
      return a;
    }
    const fresh = new Float32Array(n);
    this.holders.set(fresh.buffer, 0);
    return fresh;
  }

  /** A tensor's data now holds `values` (backend write/move). */
  held(values: unknown): void {
    if (!ArrayBuffer.isView(values)) return;
    const buf = values.buffer as ArrayBuffer;
    const n = this.holders.get(buf);
    if (n === undefined) return;
    // a view of part of one of ours, or another typed array over it: never recycle that buffer
    if (!(values instanceof Float32Array) || values.byteOffset !== 0 || values.byteLength !== buf.byteLength) this.pin(values);
    else this.holders.set(buf, n + 1);
  }

  /** The values were handed out (readSync/read): the caller may keep them. */
  pin(values: unknown): void {
    if (ArrayBuffer.isView(values) && this.holders.has(values.buffer as ArrayBuffer)) this.pinned.add(values.buffer as ArrayBuffer);
  }

  /** A tensor's data let go of `values` (backend disposeData that deleted it). */
  released(values: unknown): void {
    if (!(values instanceof Float32Array)) return;
    const buf = values.buffer as ArrayBuffer;
    const n = this.holders.get(buf);
    if (n === undefined) return;
    if (n > 1) {
      this.holders.set(buf, n - 1);
      return;
    }
    this.holders.set(buf, 0);
    if (this.pinned.has(buf) || values.byteOffset !== 0 || values.byteLength !== buf.byteLength) return;
    if (this.freeBytes + values.byteLength > this.maxFreeBytes) return;
    let list = this.free.get(values.length);
    if (!list) this.free.set(values.length, (list = []));
    list.push(values);
    this.freeBytes += values.byteLength;
  }

  /** Bytes waiting for reuse. */
  get idleBytes(): number {
    return this.freeBytes;
  }

  /** Let the GC have every idle buffer. */
  drain(): void {
    this.free.clear();
    this.freeBytes = 0;
  }
}
