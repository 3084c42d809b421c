import fs from 'node:fs';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { ChannelStats, DataError, channelStats, defaultCacheDir, definePlugin, etaText, streamingImageSet, type ImageSet } from '../../core/index.js';
import { FolderSource, badImage } from './folder-source.js';
import { DecodePool, defaultWorkers, listImages, type DecodeOptions } from './image-decode.js';
import { openPixelCache, pixelCacheKey } from './pixel-cache.js';

const IMAGE_RE = /\.(jpe?g|png|webp|gif|bmp|tiff?)$/i;

/** Images the channel mean/std is computed on with `cache: "none"` (evenly spread over the set). */
export const STATS_SAMPLE = 1000;

/**
 * Class-per-folder images, like torchvision's ImageFolder: `root/<split>/<class>/<image>` (images in
 * sub-folders of a class folder count too). Classes are the sorted sub-folder names of the training
 * split. Images are decoded by selfsup's libjpeg-turbo addon (JPEGs it decodes exactly as sharp
 * would) or sharp (libvips), in the main thread or `workers` threads, converted to `channels` (a
 * grey file in an RGB set gets 3 equal channels, alpha is dropped), resized to `size` x `size` (if
 * given) and kept as uint8. CIFAR-10 in this layout: `tar -xzf cifar10-jpeg.tar.gz` then
 * `root: "cifar10-jpeg"`.
 *
 * `cache: "memory"` (the default) decodes every image at load. `cache: "none"` keeps only the file
 * list and labels and decodes each batch when it is read (the trainer reads `train.prefetch` batches
 * ahead), so a folder of any size trains in bounded memory; then
 * - the channel mean/std used to normalise are those of a fixed sample of `STATS_SAMPLE` (1,000)
 *   images spread evenly over the training split (all of them in a smaller set: then the same as
 *   with `cache: "memory"`);
 * - every file's header is read at load (libjpeg-turbo's header reader, else sharp metadata): a
 *   file that is not an image is found then, and without `size` every image must have the first
 *   one's size;
 * - a file whose header is fine but whose pixels are not (a truncated JPEG) is found only when it is
 *   read: with `onBadImage: "skip"` the next readable image of the split (by index, wrapping) takes
 *   its place for the rest of the run, and a line is logged; with "error" the read fails with a
 *   DataError naming the file.
 * `cache: "disk"` decodes each split once into a file of raw pixels under `cacheDir`
 * (`<cacheDir>/image-folder/<key>/`, see pixel-cache.ts) and reads batches from it: bounded memory
 * as with "none", and later runs over the same files (same paths, sizes and modification times)
 * decode nothing. The mean/std are those of every image, as with "memory"; files found bad while
 * building are remembered, so a later run with `onBadImage: "error"` still refuses them.
 * Not-image names, broken links and symbolic links back into a folder already walked (a loop) are
 * skipped; the load's log line counts them, and the bad images skipped.
 *
 * @example { "type": "image-folder", "root": "cifar10-jpeg", "size": 32, "cache": "none" }
 */
export default definePlugin({
  kind: 'dataset',
  name: 'image-folder',
  description: 'class-per-folder JPEG/PNG images (root/train/<class>/*, root/test/<class>/*), decoded at load or as read',
  options: Type.Object({
    root: Type.String({ 'x-exists': 'dir', description: 'folder holding the split folders' }),
    train: Type.String({ default: 'train', description: 'training split folder under root' }),
    test: Type.Optional(Type.String({ default: 'test', description: 'test split folder under root ("" for none)' })),
    size: Type.Optional(Type.Integer({ minimum: 1, description: 'resize every image to size x size (default: keep; all must then be equal)' })),
    channels: Type.Union([Type.Literal(1), Type.Literal(3)], { default: 3, description: '3 (RGB) or 1 (grey)' }),
    limit: Type.Optional(Type.Integer({ minimum: 1, description: 'at most N images per class and split' })),
    concurrency: Type.Integer({ default: 16, minimum: 1, description: 'images decoded in parallel per thread' }),
    cache: Type.Union([Type.Literal('memory'), Type.Literal('none'), Type.Literal('disk')], {
      default: 'memory',
      description:
        'memory: decode everything at load; none: decode each batch as it is read (bounded memory, any folder size); disk: decode once into a pixel file under cacheDir, reused by later runs, read a batch at a time (bounded memory, no decoding after the first run)',
    }),
    cacheDir: Type.Optional(
      Type.String({
        description: 'with cache "disk": where the pixel files go (default: $SELFSUP_CACHE, else $XDG_CACHE_HOME/selfsup, else ~/.cache/selfsup)',
      }),
    ),
    workers: Type.Optional(Type.Integer({ minimum: 0, description: 'decoding threads (worker_threads); default min(4, CPUs); 0: the main thread' })),
    onBadImage: Type.Union([Type.Literal('error'), Type.Literal('skip')], {
      default: 'error',
      description: 'a file that cannot be decoded: error (a DataError naming it) or skip (dropped; with cache none, one found at read time is replaced)',
    }),
  }),
  create: (o, ctx) => ({
    async load() {
      const trainDir = path.join(o.root, o.train);
      if (!fs.existsSync(trainDir)) throw new DataError(`no training split at ${trainDir}: expected ${o.root}/${o.train}/<class>/<image>`);
      const classes = fs
        .readdirSync(trainDir)
        .filter((d) => fs.statSync(path.join(trainDir, d)).isDirectory())
        .sort();
      if (classes.length === 0) throw new DataError(`${trainDir} has no class folders`);
      const testDir = o.test ? path.join(o.root, o.test) : undefined;
      // a test class the training split lacks would be dropped from the evaluation without a word
      const unknown =
        testDir && fs.existsSync(testDir)
          ? fs.readdirSync(testDir).filter((d) => fs.statSync(path.join(testDir, d)).isDirectory() && !classes.includes(d))
          : [];
      if (unknown.length)
        throw new DataError(
          `class folder ${path.join(testDir!, unknown[0])} of the test split has no training class of that name (training classes: ${classes.join(', ')})`,
        );
      const pool = new DecodePool(o.workers ?? defaultWorkers(), o.concurrency, ctx.log);
      const counts: Counts = { bad: 0, nonImage: 0, loops: 0, broken: 0 };
      const opts = { ...o, log: ctx.log };
      try {
        const train = await readSplit(trainDir, classes, opts, pool, counts);
        const test = testDir && fs.existsSync(testDir) ? await readSplit(testDir, classes, opts, pool, counts, train) : undefined;
        const { mean, std } = train.stats ?? (o.cache === 'none' ? await sampleStats(train.set, o.channels) : channelStats(train.set.images, o.channels));
        const notes = [
          counts.bad && `skipped ${plural(counts.bad, 'bad image')}`,
          counts.nonImage && `ignored ${plural(counts.nonImage, 'non-image file')}`,
          counts.loops && plural(counts.loops, 'symlink loop'),
          counts.broken && plural(counts.broken, 'broken link'),
        ].filter(Boolean);
        ctx.log(
          `data: ${train.set.count.toLocaleString('en-US')} images${test ? ` (+ ${test.set.count.toLocaleString('en-US')} test)` : ''}, ${plural(classes.length, 'class', 'classes')}, ${train.w}x${train.h}x${o.channels}, cache ${o.cache}` +
            (o.cache === 'none'
              ? ` (${pool.threads ? plural(pool.threads, 'decoding thread') : 'decoding in the main thread'}; mean/std of ${Math.min(STATS_SAMPLE, train.set.count)} images)`
              : o.cache === 'disk'
                ? ` (${[train, test].flatMap((t) => (t?.cache ? [`${t.cache.built ? 'built' : 'reused'} ${t.cache.folder}`] : [])).join(', ')})`
                : '') +
            (notes.length ? `; ${notes.join(', ')}` : '') +
            `; JPEGs decoded by ${pool.jpegDecoder}`,
        );
        return {
          info: {
            name: path.basename(path.resolve(o.root)),
            height: train.h,
            width: train.w,
            channels: o.channels,
            numClasses: classes.length,
            classNames: classes,
            mean,
            std,
          },
          train: train.set,
          test: test?.set,
        };
      } finally {
        if (o.cache !== 'none') await pool.close();
      }
    },
  }),
});

interface Counts {
  bad: number;
  nonImage: number;
  loops: number;
  broken: number;
}

interface SplitOptions {
  size?: number;
  channels: 1 | 3;
  limit?: number;
  cache: 'memory' | 'none' | 'disk';
  cacheDir?: string;
  onBadImage: 'error' | 'skip';
  log: (m: string) => void;
}

interface Split {
  set: ImageSet;
  h: number;
  w: number;
  /** the split's channel mean/std where the load computed them over every image (cache "disk") */
  stats?: { mean: number[]; std: number[] };
  /** cache "disk": the pixel cache's folder, and whether this load built it */
  cache?: { folder: string; built: boolean };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
const CHUNK = 1024;

/** The split's image files and labels, class by class. */
function listSplit(dir: string, classes: string[], o: SplitOptions, counts: Counts) {
  const files: string[] = [];
  const labels: number[] = [];
  classes.forEach((c, label) => {
    const cdir = path.join(dir, c);
    if (!fs.existsSync(cdir)) return;
    const l = listImages(cdir, (f) => IMAGE_RE.test(f));
    counts.nonImage += l.nonImage;
    counts.loops += l.loops;
    counts.broken += l.broken;
    if (l.files.length === 0)
      throw new DataError(`class folder ${cdir} holds no image (.jpg, .jpeg, .png): remove it, or it would be a class without examples`);
    for (const f of l.files.slice(0, o.limit ?? l.files.length)) {
      files.push(f);
      labels.push(label);
    }
  });
  if (files.length === 0) throw new DataError(`no images under ${dir}`);
  return { files, labels };
}

async function readSplit(dir: string, classes: string[], o: SplitOptions, pool: DecodePool, counts: Counts, like?: Split): Promise<Split> {
  const listed = listSplit(dir, classes, o, counts);
  if (o.cache === 'disk') return diskSplit(listed, o, pool, counts, like);
  return o.cache === 'none' ? streamSplit(listed, o, pool, counts, like) : decodeSplit(listed, o, pool, counts, like);
}

const sizeError = (file: string, w: number, h: number, c: string, ow: number, oh: number) =>
  new DataError(`${file} is ${w}x${h}${c}, others ${ow}x${oh}${c}: set the dataset's 'size' to resize all images`);

/**
 * The split's files through `call` (the pool's decode or probe) a chunk at a time; `use` gets each
 * file that succeeded, with its label. A failure is a DataError naming the file (onBadImage
 * "error") or counted, passed to `onBad` and left out ("skip"). `onChunk` hears the files done so far.
 */
async function eachReadable<R extends { ok: true }>(
  listed: { files: string[]; labels: number[] },
  call: (files: string[]) => Promise<Array<R | { ok: false; error: string }>>,
  o: SplitOptions,
  counts: Counts,
  use: (file: string, label: number, r: R) => void,
  hooks: { onBad?: (file: string, error: string) => void; onChunk?: (done: number) => void } = {},
): Promise<void> {
  for (let start = 0; start < listed.files.length; start += CHUNK) {
    const chunk = listed.files.slice(start, start + CHUNK);
    const out = await call(chunk);
    for (let i = 0; i < chunk.length; i++) {
      const r = out[i];
      if (r.ok) use(chunk[i], listed.labels[start + i], r);
      else if (o.onBadImage === 'error') throw badImage(chunk[i], r.error);
      else {
        counts.bad++;
        hooks.onBad?.(chunk[i], r.error);
      }
    }
    hooks.onChunk?.(start + chunk.length);
  }
}

/**
 * Every readable image of the split decoded (a chunk at a time, the bad-image policy applied, a
 * progress line every ~10% of a large split), each checked to have the split's size (`size`, else
 * the training split's, else the first image's); `use` gets the pixels. Returns that size.
 */
async function decodeEach(
  listed: { files: string[]; labels: number[] },
  o: SplitOptions,
  pool: DecodePool,
  counts: Counts,
  like: Split | undefined,
  use: (file: string, label: number, pixels: Uint8Array, w: number, h: number) => void,
  onBad?: (file: string, error: string) => void,
): Promise<{ h: number; w: number }> {
  const dopts: DecodeOptions = { size: o.size, channels: o.channels };
  let h = o.size ?? like?.h ?? 0;
  let w = o.size ?? like?.w ?? 0;
  let kept = 0;
  await eachReadable(
    listed,
    (chunk) => pool.decode(chunk, dopts),
    o,
    counts,
    (file, label, r) => {
      if (!h) [h, w] = [r.height, r.width];
      if (r.width !== w || r.height !== h) throw sizeError(file, r.width, r.height, `x${o.channels}`, w, h);
      use(file, label, r.data, w, h);
      kept++;
    },
    { onBad, onChunk: decodeProgress(listed.files.length, 'decoded', o.log) },
  );
  if (kept === 0) throw new DataError(`no image under ${path.dirname(path.dirname(listed.files[0]))} could be decoded`);
  return { h, w };
}

/** cache "memory": every image decoded now. */
async function decodeSplit(listed: { files: string[]; labels: number[] }, o: SplitOptions, pool: DecodePool, counts: Counts, like?: Split): Promise<Split> {
  const n = listed.files.length;
  let images = new Uint8Array(0);
  let px = 0;
  const labels = new Int32Array(n);
  const paths: string[] = [];
  let kept = 0;
  const { h, w } = await decodeEach(listed, o, pool, counts, like, (file, label, pixels) => {
    if (px === 0) [px, images] = [pixels.length, new Uint8Array(n * pixels.length)];
    images.set(pixels, kept * px);
    labels[kept] = label;
    paths.push(file);
    kept++;
  });
  const set: ImageSet = { images: kept < n ? images.slice(0, kept * px) : images, labels: labels.slice(0, kept), count: kept, paths };
  return { set, h, w };
}

/** Log lines every ~10% of a long decode (at least 10,000 images apart), with an ETA. */
function decodeProgress(total: number, what: string, log: (m: string) => void): (done: number) => void {
  const t0 = performance.now();
  const every = Math.max(10_000, Math.ceil(total / 10));
  let next = every;
  return (done) => {
    if (done < next || done >= total) return;
    next += every;
    const s = (performance.now() - t0) / 1000;
    log(`image-folder: ${what} ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} images, ETA ${etaText((s * (total - done)) / done)}`);
  };
}

/** cache "disk": every image decoded once into the pixel cache (or nothing, when it is there), read as needed. */
async function diskSplit(listed: { files: string[]; labels: number[] }, o: SplitOptions, pool: DecodePool, counts: Counts, like?: Split): Promise<Split> {
  const dopts: DecodeOptions = { size: o.size, channels: o.channels };
  const key = pixelCacheKey(listed.files, listed.labels, dopts);
  const n = listed.files.length;
  const { index, source, folder, built } = await openPixelCache(
    o.cacheDir ?? defaultCacheDir(),
    key,
    o.channels,
    async (writer) => {
      o.log(
        `image-folder: decoding ${n.toLocaleString('en-US')} images once into the pixel cache (${o.channels} channels${o.size ? `, ${o.size}x${o.size}` : ''})`,
      );
      await decodeEach(listed, o, pool, counts, like, (file, label, pixels, w, h) => writer.add(file, label, pixels, w, h), writer.bad);
    },
    o.log,
  );
  if (!built) {
    // what the build found bad counts (and refuses) as if it were found now
    if (index.bad.length && o.onBadImage === 'error')
      throw badImage(index.bad[0].file, `${index.bad[0].error} (found when the pixel cache ${folder} was built)`);
    counts.bad += index.bad.length;
  }
  if (like && (index.width !== like.w || index.height !== like.h)) throw sizeError(index.files[0], index.width, index.height, `x${o.channels}`, like.w, like.h);
  const set = streamingImageSet(source, Int32Array.from(index.labels));
  set.paths = index.files;
  return { set, h: index.height, w: index.width, stats: { mean: index.mean, std: index.std }, cache: { folder, built } };
}

/** cache "none": headers checked now, pixels decoded when read. */
async function streamSplit(listed: { files: string[]; labels: number[] }, o: SplitOptions, pool: DecodePool, counts: Counts, like?: Split): Promise<Split> {
  let h = o.size ?? like?.h ?? 0;
  let w = o.size ?? like?.w ?? 0;
  const files: string[] = [];
  const labels: number[] = [];
  await eachReadable(
    listed,
    (chunk) => pool.probe(chunk),
    o,
    counts,
    (file, label, r) => {
      if (!o.size) {
        if (!h) [h, w] = [r.height, r.width];
        if (r.width !== w || r.height !== h) throw sizeError(file, r.width, r.height, '', w, h);
      }
      files.push(file);
      labels.push(label);
    },
  );
  if (files.length === 0) throw new DataError(`no readable image among the ${listed.files.length} files of the split`);
  const source = new FolderSource(files, { size: o.size, channels: o.channels }, h, w, pool, o.onBadImage, o.log);
  const set = streamingImageSet(source, Int32Array.from(labels));
  set.paths = files;
  return { set, h, w };
}

/** Channel mean/std of a fixed, evenly spread sample of a set read on demand (`channelStats` over the sample). */
async function sampleStats(set: ImageSet, channels: number): Promise<{ mean: number[]; std: number[] }> {
  const n = Math.min(STATS_SAMPLE, set.count);
  const idx = Array.from({ length: n }, (_, i) => Math.floor((i * set.count) / n));
  const stats = new ChannelStats(channels);
  for (let s = 0; s < n; s += 250) stats.add(await set.source!.read(idx.slice(s, s + 250)));
  return stats.result();
}
