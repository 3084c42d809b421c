import fs from 'node:fs';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { readClassNamesFile } from './class-names.js';
import { DOWNLOAD_OPTIONS, DataError, channelStats, definePlugin, fetchArchive, type ImageSet, type RemoteArchive } from '../../core/index.js';

/** The official binary distribution (Coates, Lee & Ng 2011); md5 91f7769df0f17e558f3565bffb0c7dfb. */
export const STL10_ARCHIVE: RemoteArchive = {
  name: 'stl10',
  file: 'stl10_binary.tar.gz',
  url: 'http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz',
  sha256: 'f31fd99273a1acb8609c8db427cebb1de3f71de77758cdc0e22956e1289b9866',
  folder: 'stl10_binary',
  size: 2_640_397_119,
};

const CLASSES = ['airplane', 'bird', 'car', 'cat', 'deer', 'dog', 'horse', 'monkey', 'ship', 'truck'];
const SIDE = 96;
const PLANE = SIDE * SIDE;
const IMAGE = 3 * PLANE;
/** the label of an image of the unlabeled split */
export const UNLABELLED = -1;

/**
 * STL-10 (Coates, Lee & Ng 2011): 96x96 colour images of 10 classes, 5,000 labelled training and
 * 8,000 test images, and 100,000 unlabelled ones for unsupervised learning, read from the official
 * binary archive `stl10_binary.tar.gz` (2.6 GB), like torchvision's `STL10(download=True)`: with
 * `download: true` it is fetched once into the cache (`~/.cache/selfsup/stl10`, or
 * `$SELFSUP_CACHE/stl10`; resumed if interrupted), SHA-256-verified and extracted (5.5 GB more).
 * Offline, put the archive in that folder by hand, or point `dir` at an extracted `stl10_binary`.
 *
 * `split` is what the self-supervised objective trains on: `train` (the 5,000 labelled images),
 * `unlabeled` (the 100,000 others, label -1) or `train+unlabeled` (both, labelled first).
 * Evaluators (kNN, linear probe, fine-tune) always fit on the labelled training images (the
 * dataset's `evalTrain`) and test on the test split. Memory: 100,000 images of 96x96x3 bytes are
 * 2.76 GB; `unlabeledLimit` reads only the first N unlabelled images and `size` downscales while
 * reading (sharp; `size: 64` keeps 1.2 GB, `size: 32` 0.3 GB).
 *
 * @example { "type": "stl10", "download": true, "split": "train+unlabeled", "unlabeledLimit": 20000, "size": 64 }
 */
export default definePlugin({
  kind: 'dataset',
  name: 'stl10',
  description: 'STL-10 from the official binary archive: labelled, unlabeled or both to train on (download: true fetches and verifies it)',
  reference: 'Coates, Lee & Ng 2011',
  options: Type.Object({
    dir: Type.Optional(Type.String({ 'x-exists': 'dir', description: 'an extracted stl10_binary folder (default: the cache, see download)' })),
    ...DOWNLOAD_OPTIONS,
    split: Type.Union([Type.Literal('train'), Type.Literal('unlabeled'), Type.Literal('train+unlabeled')], {
      default: 'train',
      description: 'what the objective trains on; evaluators always use the labelled training images',
    }),
    size: Type.Optional(Type.Integer({ minimum: 8, maximum: 96, description: 'downscale to size x size while reading (default: 96)' })),
    trainLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'use only the first N labelled training images' })),
    testLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'use only the first N test images' })),
    unlabeledLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'read only the first N unlabelled images (all 100,000 are 2.76 GB at 96x96)' })),
    concurrency: Type.Integer({ default: 8, minimum: 1, description: 'images resized in parallel (with size)' }),
  }),
  create: (o, ctx) => ({
    async load() {
      const dir = o.dir ?? (await fetchArchive(STL10_ARCHIVE, { download: o.download, cacheDir: o.cacheDir, url: o.url, sha256: o.sha256, log: ctx.log }));
      const side = o.size ?? SIDE;
      const px = side * side * 3;
      const reader = new ImageReader(dir, side, o.concurrency);
      const classNames = readClassNames(dir);
      const nTrain = reader.count('train_X.bin', o.trainLimit);
      const nUnlabelled = o.split === 'train' ? 0 : reader.count('unlabeled_X.bin', o.unlabeledLimit);
      const withLabelled = o.split !== 'unlabeled';
      const total = (withLabelled ? nTrain : 0) + nUnlabelled;
      // labelled images first (evalTrain is a view of them when they are trained on too)
      const images = new Uint8Array(total * px);
      const labels = new Int32Array(total).fill(UNLABELLED);
      let labelled: ImageSet;
      if (withLabelled) {
        await reader.read('train_X.bin', nTrain, images, 0);
        labels.set(reader.labels('train_y.bin', nTrain));
        labelled = { images: images.subarray(0, nTrain * px), labels: labels.subarray(0, nTrain), count: nTrain };
      } else {
        labelled = { images: new Uint8Array(nTrain * px), labels: reader.labels('train_y.bin', nTrain), count: nTrain };
        await reader.read('train_X.bin', nTrain, labelled.images, 0);
      }
      if (nUnlabelled) await reader.read('unlabeled_X.bin', nUnlabelled, images, total - nUnlabelled);
      const train: ImageSet = { images, labels, count: total };
      const nTest = reader.count('test_X.bin', o.testLimit);
      const test: ImageSet = { images: new Uint8Array(nTest * px), labels: reader.labels('test_y.bin', nTest), count: nTest };
      await reader.read('test_X.bin', nTest, test.images, 0);
      const { mean, std } = channelStats(train.images, 3);
      return {
        info: { name: 'stl10', height: side, width: side, channels: 3, numClasses: 10, classNames, mean, std },
        train,
        evalTrain: o.split === 'train' ? undefined : labelled,
        test,
      };
    },
  }),
});

function readClassNames(dir: string): string[] {
  return readClassNamesFile(path.join(dir, 'class_names.txt'), CLASSES, 'STL-10');
}

/**
 * Reads STL-10's `*_X.bin` files: per image 3 planes (R, G, B) of 96x96 bytes, each plane stored
 * column-major (MATLAB order: torchvision transposes it), into interleaved row-major RGB, resized
 * to `side` when smaller. Reads in chunks, so a limit reads only the head of a 2.76 GB file.
 */
class ImageReader {
  constructor(
    private readonly dir: string,
    private readonly side: number,
    private readonly concurrency: number,
  ) {}

  private file(name: string): string {
    const file = path.join(this.dir, name);
    if (!fs.existsSync(file)) throw new DataError(`${name} not found in ${this.dir} (an incomplete stl10_binary: extract stl10_binary.tar.gz again)`);
    return file;
  }

  /** images in `name`, at most `limit` */
  count(name: string, limit = Infinity): number {
    const file = this.file(name);
    const bytes = fs.statSync(file).size;
    if (bytes === 0 || bytes % IMAGE !== 0) throw new DataError(`${file} has ${bytes} bytes, not a whole number of ${IMAGE}-byte 96x96x3 images (truncated?)`);
    return Math.min(bytes / IMAGE, limit);
  }

  /** the first `count` labels of `name`, 1..10 in the file, 0..9 here */
  labels(name: string, count: number): Int32Array {
    const file = this.file(name);
    const raw = fs.readFileSync(file);
    if (raw.length < count) throw new DataError(`${file} has ${raw.length} labels for ${count} images`);
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      if (raw[i] < 1 || raw[i] > 10) throw new DataError(`${file}: label ${raw[i]} at index ${i} is not one of the 10 classes (1 to 10)`);
      out[i] = raw[i] - 1;
    }
    return out;
  }

  /** the first `count` images of `name` into `out`, from image `at` on */
  async read(name: string, count: number, out: Uint8Array, at: number): Promise<void> {
    const file = this.file(name);
    const px = this.side * this.side * 3;
    const chunk = 512;
    const raw = Buffer.alloc(Math.min(count, chunk) * IMAGE);
    const hwc = new Uint8Array(raw.length);
    const fd = fs.openSync(file, 'r');
    try {
      for (let first = 0; first < count; first += chunk) {
        const n = Math.min(chunk, count - first);
        const bytes = n * IMAGE;
        for (let got = 0; got < bytes;) {
          const r = fs.readSync(fd, raw, got, bytes - got, first * IMAGE + got);
          if (r === 0) throw new DataError(`${file} ended early, at image ${first + Math.floor(got / IMAGE)} of ${count}`);
          got += r;
        }
        const dst = this.side === SIDE ? out : hwc;
        const base = this.side === SIDE ? (at + first) * IMAGE : 0;
        for (let i = 0; i < n; i++) {
          const src = i * IMAGE;
          const o = base + i * IMAGE;
          for (let c = 0; c < 3; c++)
            for (let x = 0; x < SIDE; x++) {
              const col = src + c * PLANE + x * SIDE;
              for (let y = 0; y < SIDE; y++) dst[o + (y * SIDE + x) * 3 + c] = raw[col + y];
            }
        }
        if (this.side !== SIDE) await this.resize(hwc, n, out, (at + first) * px);
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  private async resize(hwc: Uint8Array, n: number, out: Uint8Array, offset: number): Promise<void> {
    // loaded here, not at import: importing selfsup must not load sharp's native addon
    const { default: sharp } = await import('sharp');
    const px = this.side * this.side * 3;
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        const data = await sharp(hwc.subarray(i * IMAGE, (i + 1) * IMAGE), { raw: { width: SIDE, height: SIDE, channels: 3 } })
          .resize(this.side, this.side, { fit: 'fill' })
          .raw()
          .toBuffer();
        out.set(data, offset + i * px);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, n) }, worker));
  }
}
