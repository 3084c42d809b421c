/**
 * image-folder's `cache: "disk"`: a split's images decoded once into a file of raw uint8 pixels,
 * reused by every later run over the same files, read back a batch at a time. Memory stays bounded
 * as with `cache: "none"` (the pixels are read with positional reads, so they live in the OS's page
 * cache, not in the process), and after the first load a batch costs a read instead of a JPEG
 * decode: on a machine whose cores all train, decoding each batch again takes time from the
 * training step.
 *
 * Layout: `<cacheDir>/image-folder/<key>/pixels.u8` (`count x h x w x channels`, row-major) and
 * `index.json` (the files kept, their labels, the files skipped as bad, the channel mean/std). The
 * key is the SHA-256 of the decode options and every file's path, size and modification time, so a
 * file added, removed or changed gives another key and a new cache; nothing is ever reused for
 * files that changed. A cache is built in a staging folder beside it and renamed into place when
 * complete: a killed build never leaves a folder that is later trusted, and of two runs building
 * the same cache at once, the second to finish uses the first's.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ChannelStats, DataError, type ImageSource } from '../../core/index.js';

/** Bumped when the file format or the decode pipeline changes, so old caches are not read. */
const FORMAT = 1;

export interface PixelCacheIndex {
  format: number;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** the files whose pixels are in `pixels.u8`, in order */
  files: string[];
  labels: number[];
  /** files that could not be decoded when the cache was built (onBadImage "skip"), with why */
  bad: Array<{ file: string; error: string }>;
  /** channel mean/std of every image in the cache, as `channelStats` gives */
  mean: number[];
  std: number[];
}

/** What a build writes: one image at a time, in order. */
export interface PixelCacheWriter {
  /** append one image's pixels (height x width x channels uint8) with its file and label; every image has the first one's size */
  add(file: string, label: number, pixels: Uint8Array, width: number, height: number): void;
  bad(file: string, error: string): void;
}

/** Key of a split's cache: the decode options and every file's path, size and modification time. */
export function pixelCacheKey(files: string[], labels: ArrayLike<number>, options: { size?: number; channels: number }): string {
  const h = crypto.createHash('sha256');
  h.update(JSON.stringify({ format: FORMAT, size: options.size ?? null, channels: options.channels }));
  files.forEach((f, i) => {
    const s = fs.statSync(f);
    // the nearest millisecond: what a copy that keeps times (cp -p, rsync -t, tar) restores, and what
    // Node's utimes with a Date sets (through float seconds, up to 1 µs below the millisecond)
    h.update(`\n${path.resolve(f)}\t${labels[i]}\t${s.size}\t${Math.round(s.mtimeMs)}`);
  });
  return h.digest('hex').slice(0, 32);
}

/**
 * The cache under `dir` for `key`, built with `build` if it is not there (or is not whole). `build`
 * gets a writer and decodes every image into it; the first image's size is the cache's.
 */
export async function openPixelCache(
  dir: string,
  key: string,
  channels: number,
  build: (w: PixelCacheWriter) => Promise<void>,
  log: (m: string) => void,
): Promise<{ index: PixelCacheIndex; source: CachedPixels; folder: string; built: boolean }> {
  const folder = path.join(dir, 'image-folder', key);
  const existing = readIndex(folder);
  if (existing) return { index: existing, source: new CachedPixels(folder, existing), folder, built: false };
  if (fs.existsSync(folder)) {
    log(`image-folder: the pixel cache ${folder} is not whole (a file is missing or of the wrong size): building it again`);
    fs.rmSync(folder, { recursive: true, force: true });
  }
  fs.mkdirSync(path.dirname(folder), { recursive: true });
  const staging = `${folder}.tmp-${process.pid}-${Date.now()}`;
  fs.mkdirSync(staging);
  try {
    const index = await writeCache(staging, channels, build);
    try {
      fs.renameSync(staging, folder);
    } catch (e) {
      // another run finished the same cache first: use its copy (the same files gave the same key)
      const theirs = readIndex(folder);
      if (!theirs) throw e;
      return { index: theirs, source: new CachedPixels(folder, theirs), folder, built: false };
    }
    return { index, source: new CachedPixels(folder, index), folder, built: true };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

async function writeCache(staging: string, channels: number, build: (w: PixelCacheWriter) => Promise<void>): Promise<PixelCacheIndex> {
  const fd = fs.openSync(path.join(staging, 'pixels.u8'), 'w');
  const stats = new ChannelStats(channels);
  const index: PixelCacheIndex = { format: FORMAT, count: 0, height: 0, width: 0, channels, files: [], labels: [], bad: [], mean: [], std: [] };
  let px = 0;
  try {
    await build({
      add(file, label, pixels, width, height) {
        if (px === 0) [px, index.width, index.height] = [pixels.length, width, height];
        if (width !== index.width || height !== index.height || pixels.length !== px)
          throw new Error(`pixel cache: ${file} is ${width}x${height} (${pixels.length} values), the first image ${index.width}x${index.height}`);
        fs.writeSync(fd, pixels);
        stats.add(pixels);
        index.files.push(file);
        index.labels.push(label);
        index.count++;
      },
      bad(file, error) {
        index.bad.push({ file, error });
      },
    });
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  if (index.count > 0) Object.assign(index, stats.result());
  fs.writeFileSync(path.join(staging, 'index.json'), JSON.stringify(index));
  return index;
}

/** The index of a whole cache folder, or undefined (absent, unreadable, or pixels.u8 of the wrong size). */
function readIndex(folder: string): PixelCacheIndex | undefined {
  try {
    const index = JSON.parse(fs.readFileSync(path.join(folder, 'index.json'), 'utf8')) as PixelCacheIndex;
    if (index.format !== FORMAT) return undefined;
    const bytes = fs.statSync(path.join(folder, 'pixels.u8')).size;
    return bytes === index.count * index.height * index.width * index.channels ? index : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a cache's images by index; consecutive indices are one read. */
export class CachedPixels implements ImageSource {
  private fd: number | undefined;
  private readonly px: number;

  constructor(
    readonly folder: string,
    index: PixelCacheIndex,
  ) {
    this.px = index.height * index.width * index.channels;
  }

  async read(indices: ArrayLike<number>): Promise<Uint8Array> {
    const fd = (this.fd ??= fs.openSync(path.join(this.folder, 'pixels.u8'), 'r'));
    const { px } = this;
    const out = new Uint8Array(indices.length * px);
    for (let k = 0; k < indices.length;) {
      let run = 1;
      while (k + run < indices.length && indices[k + run] === indices[k] + run) run++;
      const want = run * px;
      const got = fs.readSync(fd, out, k * px, want, indices[k] * px);
      if (got !== want) throw new DataError(`the pixel cache ${this.folder} ends early (image ${indices[k]}): delete that folder and it is built again`);
      k += run;
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
