import path from 'node:path';
import { DataError, type ImageSource } from '../../core/index.js';
import type { DecodeOptions, DecodePool } from './image-decode.js';

/** The error for a file that cannot be decoded, with what the user can do about it. */
export const badImage = (file: string, why: string) =>
  new DataError(`cannot decode ${file}: ${why} (a corrupt or non-image file; remove it or fix it, or set the dataset's onBadImage: "skip")`);

/**
 * The pixels of a folder's files, decoded as read. With `onBadImage: "skip"`, a file that fails to
 * decode is replaced by the next one (by index, wrapping) that decodes, for the rest of the run
 * (`replaced` counts them); with "error" the read throws a DataError naming it.
 */
export class FolderSource implements ImageSource {
  /** index of a file found bad at read time -> the index read in its place */
  readonly replacements = new Map<number, number>();
  private readonly px: number;

  constructor(
    readonly files: string[],
    private readonly opts: DecodeOptions,
    private readonly h: number,
    private readonly w: number,
    private readonly pool: DecodePool,
    private readonly onBadImage: 'error' | 'skip',
    private readonly log: (m: string) => void,
  ) {
    this.px = h * w * opts.channels;
  }

  get replaced(): number {
    return this.replacements.size;
  }

  async read(indices: ArrayLike<number>): Promise<Uint8Array> {
    const idx = Array.from(indices, (i) => this.replacements.get(i) ?? i);
    const out = new Uint8Array(idx.length * this.px);
    const decoded = await this.pool.decode(
      idx.map((i) => this.files[i]),
      this.opts,
    );
    for (let k = 0; k < idx.length; k++) {
      const r = decoded[k];
      const why = r.ok ? this.wrongSize(r) : r.error;
      if (r.ok && why === undefined) out.set(r.data, k * this.px);
      else if (this.onBadImage === 'error') throw badImage(this.files[idx[k]], why!);
      else out.set(await this.replace(idx[k], why!), k * this.px);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private wrongSize(r: { width: number; height: number }): string | undefined {
    return r.width === this.w && r.height === this.h ? undefined : `decoded to ${r.width}x${r.height}, its header and the others say ${this.w}x${this.h}`;
  }

  /** The next readable image after `bad`, remembered as its replacement. */
  private async replace(bad: number, why: string): Promise<Uint8Array> {
    const n = this.files.length;
    for (let step = 1; step < Math.min(n, 64); step++) {
      const j = (bad + step) % n;
      if (this.replacements.has(j)) continue;
      const [r] = await this.pool.decode([this.files[j]], this.opts);
      if (r.ok && this.wrongSize(r) === undefined) {
        this.replacements.set(bad, j);
        this.log(
          `image-folder: cannot decode ${this.files[bad]} (${why}); reading ${path.basename(this.files[j])} in its place (onBadImage: "skip", ${this.replaced} so far)`,
        );
        return r.data;
      }
    }
    throw badImage(this.files[bad], `${why}; and none of the next images could be read in its place`);
  }
}
