import fs from 'node:fs';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { readClassNamesFile } from './class-names.js';
import { DOWNLOAD_OPTIONS, DataError, channelStats, definePlugin, fetchArchive, type ImageSet, type RemoteArchive } from '../../core/index.js';

/** The official binary distribution (Krizhevsky 2009); md5 c32a1d4ab5d03f1284b67883e8d87530. */
export const CIFAR10_ARCHIVE: RemoteArchive = {
  name: 'cifar10',
  file: 'cifar-10-binary.tar.gz',
  url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
  sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd',
  folder: 'cifar-10-batches-bin',
  size: 170_052_171,
};

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const PIXELS = 32 * 32;
const RECORD = 1 + 3 * PIXELS;

/**
 * CIFAR-10 (Krizhevsky 2009): 32x32 colour images of 10 classes, 50,000 training and 10,000 test,
 * read from the official binary distribution `cifar-10-binary.tar.gz` (170 MB), like
 * torchvision's `CIFAR10(download=True)`. With `download: true` the archive is fetched once into
 * the cache (`~/.cache/selfsup/cifar10`, or `$SELFSUP_CACHE/cifar10`), SHA-256-verified and
 * extracted; later runs read the extracted `cifar-10-batches-bin/` without a request. Offline,
 * put the archive in that folder by hand, or point `dir` at an extracted `cifar-10-batches-bin`.
 * Each record is a label byte and the 1024 red, 1024 green and 1024 blue bytes of the image (each
 * plane row-major); the images are kept as interleaved uint8 RGB (150 MB for the training set).
 *
 * @example { "type": "cifar10", "download": true }
 */
export default definePlugin({
  kind: 'dataset',
  name: 'cifar10',
  description: 'CIFAR-10 from the official binary archive (download: true fetches and verifies it)',
  reference: 'Krizhevsky 2009',
  options: Type.Object({
    dir: Type.Optional(Type.String({ 'x-exists': 'dir', description: 'an extracted cifar-10-batches-bin folder (default: the cache, see download)' })),
    ...DOWNLOAD_OPTIONS,
    trainLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'use only the first N training images' })),
    testLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'use only the first N test images' })),
  }),
  create: (o, ctx) => ({
    async load() {
      const dir = o.dir ?? (await fetchArchive(CIFAR10_ARCHIVE, { download: o.download, cacheDir: o.cacheDir, url: o.url, sha256: o.sha256, log: ctx.log }));
      const classNames = readClassNames(dir);
      const train = readBatches(
        dir,
        [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
        o.trainLimit,
      );
      const test = readBatches(dir, ['test_batch.bin'], o.testLimit);
      const { mean, std } = channelStats(train.images, 3);
      return { info: { name: 'cifar10', height: 32, width: 32, channels: 3, numClasses: 10, classNames, mean, std }, train, test };
    },
  }),
});

function readClassNames(dir: string): string[] {
  return readClassNamesFile(path.join(dir, 'batches.meta.txt'), CLASSES, 'CIFAR-10');
}

/** Records of `files` in order, at most `limit`, as interleaved HWC uint8 images and labels. */
function readBatches(dir: string, files: string[], limit = Infinity): ImageSet {
  const buffers: Buffer[] = [];
  let count = 0;
  for (const f of files) {
    if (count >= limit) break;
    const file = path.join(dir, f);
    if (!fs.existsSync(file)) throw new DataError(`${f} not found in ${dir} (an incomplete cifar-10-batches-bin: extract cifar-10-binary.tar.gz again)`);
    const buf = fs.readFileSync(file);
    if (buf.length === 0 || buf.length % RECORD !== 0)
      throw new DataError(`${file} has ${buf.length} bytes, not a whole number of ${RECORD}-byte records (truncated or not CIFAR-10 binary)`);
    buffers.push(buf);
    count += buf.length / RECORD;
  }
  count = Math.min(count, limit);
  const images = new Uint8Array(count * 3 * PIXELS);
  const labels = new Int32Array(count);
  let i = 0;
  for (let b = 0; b < buffers.length && i < count; b++) {
    const buf = buffers[b];
    for (let r = 0; r * RECORD < buf.length && i < count; r++, i++) {
      const at = r * RECORD;
      const label = buf[at];
      if (label >= 10) throw new DataError(`${path.join(dir, files[b])}: record ${r} has label ${label}, not one of the 10 classes (0 to 9)`);
      labels[i] = label;
      const out = i * 3 * PIXELS;
      // planes R, G, B of 1024 bytes each -> pixel-interleaved RGB
      for (let c = 0; c < 3; c++) {
        const plane = at + 1 + c * PIXELS;
        for (let p = 0; p < PIXELS; p++) images[out + 3 * p + c] = buf[plane + p];
      }
    }
  }
  return { images, labels, count };
}
