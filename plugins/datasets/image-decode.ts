/**
 * Decoding image files with sharp, in worker threads (image-folder). The worker is plain JavaScript
 * held in a string and started with `new Worker(code, { eval: true })`: it needs no file of its
 * own, so it runs the same from the TypeScript sources (vitest), from the ESM and CJS bundles of
 * dist/ and from a bundle a user makes, with nothing to locate. It loads sharp with `require` from
 * the path the main thread resolved (`createRequire(import.meta.url).resolve('sharp')`), so it
 * finds the same sharp the package uses whatever the current directory. `workers: 0`, or a worker
 * that fails to start, decodes in the main thread (sharp's own libuv threads) with the same
 * pipeline: the pixels are the same either way (a test checks it). A worker loads sharp only when
 * the JPEG addon declines a file (or there is no addon): a worker decoding plain JPEGs holds no libvips. JPEGs go first to selfsup's
 * libjpeg-turbo addon (jpeg-addon.ts: ~35x less CPU than sharp for a small image, the same bytes),
 * which hands sharp whatever it does not decode exactly as sharp would.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { jpegAddonFile } from './jpeg-addon.js';

export interface DecodeOptions {
  /** resize to size x size (fit: fill); none: keep the file's size */
  size?: number;
  channels: 1 | 3;
}

export type Decoded = { ok: true; data: Uint8Array; width: number; height: number } | { ok: false; error: string };
export type Probed = { ok: true; width: number; height: number } | { ok: false; error: string };

/**
 * The pipeline, shared verbatim (as source text) by the main thread and the workers: alpha dropped,
 * then grey (`channels: 1`, libvips b-w) or sRGB (`channels: 3`: a grey file becomes 3 equal
 * channels, CMYK is converted), then the resize. A file sharp cannot fully decode (a truncated
 * JPEG: sharp's default `failOn: 'warning'`) fails.
 */
const PIPELINE_JS = `
// libvips reports some failures over several lines ("...failOn setting\\nerror in tile 0 x 8"): one line per file in a log
function errorText(e) {
  return String((e && e.message) || e).split(/\\s*\\n\\s*/).filter(Boolean).join('; ');
}
async function decodeOne(sharp, jpeg, fs, file, o) {
  try {
    // from the file's bytes: sharp given a path costs ~60% more per small image (1.28 vs 0.79 ms, 32 px JPEGs)
    const bytes = fs.readFileSync(file);
    if (jpeg && bytes[0] === 0xff && bytes[1] === 0xd8) {
      // libjpeg-turbo where it gives sharp's bytes exactly; a string is why not, and sharp decodes it
      const r = jpeg.decode(bytes, o.channels, o.size || 0);
      if (typeof r !== 'string') return { ok: true, data: new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.length), width: r.width, height: r.height };
    }
    let img = sharp(bytes).removeAlpha();
    img = o.channels === 1 ? img.grayscale() : img.toColourspace('srgb');
    if (o.size) img = img.resize(o.size, o.size, { fit: 'fill' });
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== o.channels) return { ok: false, error: 'decoded to ' + info.channels + ' channels, expected ' + o.channels };
    return { ok: true, data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (e) {
    return { ok: false, error: errorText(e) };
  }
}
// a file's first 64 KB: a JPEG's header is in it unless large metadata comes first (then sharp reads the header)
// (one buffer per thread, reused: the read and the header parse that uses it are synchronous)
let headBuffer = null;
function headOf(fs, file) {
  const fd = fs.openSync(file, 'r');
  try {
    const b = (headBuffer ??= Buffer.allocUnsafe(65536));
    return b.subarray(0, fs.readSync(fd, b, 0, b.length, 0));
  } finally {
    fs.closeSync(fd);
  }
}
async function probeOne(sharp, jpeg, fs, file) {
  try {
    if (jpeg) {
      const h = jpeg.header(headOf(fs, file));
      if (typeof h !== 'string') return { ok: true, width: h.width, height: h.height };
    }
    const m = await sharp(file).metadata();
    if (!m.width || !m.height) return { ok: false, error: 'no image size in its header' };
    return { ok: true, width: m.width, height: m.height };
  } catch (e) {
    return { ok: false, error: errorText(e) };
  }
}
// fn over every file, at most \`lanes\` at once (not all at once: 25,000 probes in flight hold 25,000 sharp pipelines), results in order
async function eachFile(files, lanes, fn) {
  const out = new Array(files.length);
  let next = 0;
  const lane = async () => {
    while (next < files.length) {
      const i = next++;
      out[i] = await fn(files[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, files.length) }, lane));
  return out;
}
`;

const WORKER_JS = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
let jpeg = null;
try {
  if (workerData.jpegPath) jpeg = require(workerData.jpegPath);
} catch {}
// sharp (libvips) is loaded on the first file the JPEG addon declines: with the addon, a folder of
// plain JPEGs never loads it, and a worker is that much smaller. A sharp that will not load ends
// the worker (with the reason), and the main thread decodes the call again.
let loaded = null;
function loadSharp() {
  try {
    loaded = require(workerData.sharpPath);
  } catch (e) {
    parentPort.postMessage({ fatal: 'sharp did not load in a decode worker: ' + String((e && e.message) || e).split('\\n')[0] });
    process.exit(70);
  }
  loaded.concurrency(1);
  // libvips's operation cache keeps recent results for reuse; every image here is new, so it only holds memory
  loaded.cache(false);
  return loaded;
}
if (!jpeg) loadSharp();
const sharp = (input) => (loaded || loadSharp())(input);
${PIPELINE_JS}
parentPort.on('message', async (m) => {
  const out = await eachFile(m.files, m.lanes, (f) => (m.op === 'decode' ? decodeOne(sharp, jpeg, fs, f, m.opts) : probeOne(sharp, jpeg, fs, f)));
  // the pixels of every file in one buffer, moved to the main thread rather than copied file by file
  let bytes = 0;
  for (const r of out) if (r.ok && r.data) bytes += r.data.length;
  const packed = new Uint8Array(bytes);
  let at = 0;
  for (const r of out)
    if (r.ok && r.data) {
      packed.set(r.data, at);
      r.data = [at, r.data.length];
      at += r.data[1];
    }
  parentPort.postMessage({ id: m.id, out, packed }, [packed.buffer]);
});
`;

type SharpFn = (input: string | Buffer) => unknown;
type JpegAddon = {
  decode(bytes: Uint8Array, channels: number, size: number): { data: Buffer; width: number; height: number } | string;
  header(bytes: Uint8Array): { width: number; height: number } | string;
};
type Pipeline = {
  decodeOne(sharp: SharpFn, jpeg: JpegAddon | null, fs: typeof import('node:fs'), file: string, o: DecodeOptions): Promise<Decoded>;
  probeOne(sharp: SharpFn, jpeg: JpegAddon | null, fs: typeof import('node:fs'), file: string): Promise<Probed>;
  eachFile<T>(files: string[], lanes: number, fn: (file: string) => Promise<T>): Promise<T[]>;
};

let mainPipeline: Promise<{ sharp: SharpFn; p: Pipeline }> | undefined;
/** The pipeline in this thread (the fallback), from the same source text as the workers'. */
function inMain(): Promise<{ sharp: SharpFn; p: Pipeline }> {
  mainPipeline ??= (async () => {
    // loaded here, not at import: importing selfsup must not load sharp's native addon
    const { default: sharp } = await import('sharp');
    const p = new Function(`${PIPELINE_JS}; return { decodeOne, probeOne, eachFile };`)() as Pipeline;
    return { sharp: sharp as unknown as SharpFn, p };
  })();
  return mainPipeline;
}

/** The JPEG addon, loaded once here so that a file that will not load is a reason, not a worker's silent fallback. */
function loadJpegAddon(): { ok: true; file: string; addon: JpegAddon } | { ok: false; reason: string } {
  const found = jpegAddonFile();
  if (!found.ok) return found;
  try {
    return { ...found, addon: createRequire(import.meta.url)(found.file) as JpegAddon };
  } catch (e) {
    return { ok: false, reason: `cannot load: ${(e as Error).message.split('\n')[0]}` };
  }
}

/** Worker threads a decode pool uses by default: min(4, CPUs). */
export const defaultWorkers = () => Math.min(4, os.availableParallelism?.() ?? os.cpus().length);

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (v: unknown[]) => void; reject: (e: Error) => void }>;
}

/**
 * A pool of decoding threads. Each call splits its files over the workers (one message each), and
 * every worker decodes its share concurrently. Idle workers do not keep the process alive.
 */
export class DecodePool {
  private slots: Slot[] = [];
  private nextId = 0;
  private failed?: string;
  /** what decodes JPEGs: libjpeg-turbo (selfsup's addon), or sharp and why not the addon */
  readonly jpegDecoder: string;
  private readonly jpegPath?: string;
  /** the addon as loaded in this thread (for decoding here) */
  private readonly jpeg: JpegAddon | null;

  /**
   * @param workers decoding threads; 0: the main thread
   * @param sharpPath the sharp module the workers load (default: the package's)
   */
  constructor(
    workers: number,
    private readonly concurrency = 16,
    private readonly log: (m: string) => void = () => {},
    private readonly sharpPath?: string,
  ) {
    const jpeg = loadJpegAddon();
    this.jpegPath = jpeg.ok ? jpeg.file : undefined;
    this.jpeg = jpeg.ok ? jpeg.addon : null;
    this.jpegDecoder = jpeg.ok ? 'libjpeg-turbo' : `sharp (selfsup_jpeg ${jpeg.reason})`;
    this.startWorkers(workers);
  }

  /** decoding threads now running (0: decoding in the main thread) */
  get threads(): number {
    return this.slots.length;
  }

  private startWorkers(n: number): void {
    if (n <= 0) return;
    try {
      const sharpPath = this.sharpPath ?? createRequire(import.meta.url).resolve('sharp');
      for (let i = 0; i < n; i++) this.slots.push(this.start(sharpPath));
    } catch (e) {
      this.fallBack(e);
    }
  }

  /** Decode files (results in order; a file that fails is `{ ok: false, error }`, never a throw). */
  decode(files: string[], opts: DecodeOptions): Promise<Decoded[]> {
    return this.run('decode', files, opts) as Promise<Decoded[]>;
  }

  /** Read files' headers only (sharp metadata): their size, or why they are not images. */
  probe(files: string[]): Promise<Probed[]> {
    return this.run('probe', files) as Promise<Probed[]>;
  }

  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private start(sharpPath: string): Slot {
    const worker = new Worker(WORKER_JS, { eval: true, workerData: { sharpPath, jpegPath: this.jpegPath } });
    const slot: Slot = { worker, pending: new Map() };
    worker.unref();
    worker.on('message', (m: { id: number; out: Array<{ ok: boolean; data?: [number, number] | Uint8Array }>; packed: Uint8Array; fatal?: string }) => {
      if (m.fatal) return fail(new Error(m.fatal));
      // each decoded file's pixels: a view of the one buffer the worker moved here
      for (const r of m.out) if (r.ok && Array.isArray(r.data)) r.data = m.packed.subarray(r.data[0], r.data[0] + r.data[1]);
      const p = slot.pending.get(m.id);
      slot.pending.delete(m.id);
      if (slot.pending.size === 0) worker.unref();
      p?.resolve(m.out);
    });
    const fail = (e: Error) => {
      for (const p of slot.pending.values()) p.reject(e);
      slot.pending.clear();
      this.slots = this.slots.filter((s) => s !== slot);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`decode worker exited (code ${code})`)));
    return slot;
  }

  private fallBack(e: unknown): void {
    if (this.failed) return;
    this.failed = (e as Error)?.message ?? String(e);
    this.log(`image decoding: worker threads unavailable (${this.failed}); decoding in the main thread`);
  }

  private async run(op: 'decode' | 'probe', files: string[], opts?: DecodeOptions): Promise<unknown[]> {
    if (files.length === 0) return [];
    if (this.slots.length > 0) {
      try {
        return await this.inWorkers(op, files, opts);
      } catch (e) {
        // a worker that died (sharp failed to load in it): the rest of the run decodes here
        this.fallBack(e);
        await this.close();
      }
    }
    const { sharp, p } = await inMain();
    return p.eachFile(files, this.concurrency, (f) => (op === 'decode' ? p.decodeOne(sharp, this.jpeg, fs, f, opts!) : p.probeOne(sharp, this.jpeg, fs, f)));
  }

  private async inWorkers(op: 'decode' | 'probe', files: string[], opts?: DecodeOptions): Promise<unknown[]> {
    // least-busy workers first, contiguous shares
    const slots = [...this.slots].sort((a, b) => a.pending.size - b.pending.size);
    const n = Math.min(slots.length, files.length);
    const share = Math.ceil(files.length / n);
    const parts = await Promise.all(
      Array.from({ length: n }, (_, k) => {
        const slot = slots[k];
        const id = this.nextId++;
        return new Promise<unknown[]>((resolve, reject) => {
          slot.pending.set(id, { resolve, reject });
          slot.worker.ref();
          slot.worker.postMessage({ id, op, files: files.slice(k * share, (k + 1) * share), opts, lanes: this.concurrency });
        });
      }),
    );
    return parts.flat();
  }
}

export interface FolderListing {
  /** image files, in walk order (entries sorted by name at each level) */
  files: string[];
  /** files whose name is not an image's */
  nonImage: number;
  /** symbolic links to a folder already walked (a loop), not followed */
  loops: number;
  /** symbolic links that point nowhere */
  broken: number;
}

/**
 * The image files under `dir`, sub-folders included. Symbolic links are followed, except to a folder
 * already walked (its real path is in `visited`: a loop, or a second way to the same images), which
 * is counted in `loops`; names that are not images', and broken links, are counted and skipped.
 */
export function listImages(dir: string, isImage: (name: string) => boolean): FolderListing {
  const out: FolderListing = { files: [], nonImage: 0, loops: 0, broken: 0 };
  const visited = new Set<string>([fs.realpathSync(dir)]);
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      const full = path.join(d, name);
      let st = fs.lstatSync(full);
      if (st.isSymbolicLink()) {
        try {
          st = fs.statSync(full);
        } catch {
          out.broken++;
          continue;
        }
      }
      if (st.isDirectory()) {
        const real = fs.realpathSync(full);
        if (visited.has(real)) {
          out.loops++;
          continue;
        }
        visited.add(real);
        walk(full);
      } else if (st.isFile() && isImage(name)) out.files.push(full);
      else out.nonImage++;
    }
  };
  walk(dir);
  return out;
}
