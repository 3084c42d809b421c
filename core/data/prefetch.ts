import type { Batch, DatasetInfo, ImageSet } from '../contracts/data.js';
import { makeBatch, makeBatchFrom, readPixels } from './batch.js';

/** Batches the trainer prefetches by default while a step runs (a set read on demand). */
export const DEFAULT_PREFETCH = 4;

/**
 * The batches of a known order, read ahead: taking batch k starts the reads of batches k+1..k+ahead
 * (so at most `ahead + 1` batches are read or held at once: bounded memory), and the decoding
 * of later batches overlaps the training step on this one. An in-memory set is gathered as it is
 * taken (nothing to overlap). `close()` when stopping early: reads in flight finish unobserved.
 */
export class BatchQueue {
  private readonly pending = new Map<number, Promise<Uint8Array>>();
  private next = 0;
  private issued = 0;

  /**
   * @param batches the batches' dataset indices, in order
   * @param ahead batches read ahead of the one taken (0: read each when it is taken)
   */
  constructor(
    private readonly set: ImageSet,
    private readonly info: DatasetInfo,
    private readonly batches: readonly Int32Array[],
    private readonly ahead: number,
  ) {}

  get remaining(): number {
    return this.batches.length - this.next;
  }

  /** The next batch; throws what its read threw (a DataError naming the file). */
  async take(): Promise<Batch> {
    if (this.next >= this.batches.length) throw new Error('BatchQueue: no batch left');
    const k = this.next++;
    const indices = this.batches[k];
    if (!this.set.source) return makeBatch(this.set, this.info, indices);
    this.fill(k);
    const read = this.pending.get(k)!;
    this.pending.delete(k);
    const pixels = await read;
    return makeBatchFrom(this.set, this.info, indices, pixels);
  }

  /** Stop: no further reads are started, and the ones in flight are dropped. */
  close(): void {
    this.next = this.batches.length;
    this.pending.clear();
  }

  private fill(k: number): void {
    const last = Math.min(this.batches.length - 1, k + this.ahead);
    for (; this.issued <= last; this.issued++) {
      const p = readPixels(this.set, this.info, this.batches[this.issued]);
      // a read that fails is reported when its batch is taken, not as an unhandled rejection before
      p.catch(() => {});
      this.pending.set(this.issued, p);
    }
  }
}

/** Batch `k` of an epoch order: `order[k*size, (k+1)*size)`. */
export function batchesOf(order: Int32Array, size: number, from: number, to: number): Int32Array[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => order.subarray((from + i) * size, (from + i + 1) * size));
}
