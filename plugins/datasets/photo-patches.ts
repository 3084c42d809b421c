import fs from 'node:fs';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { DataError, channelStats, definePlugin, packageRoot, type ImageSet } from '../../core/index.js';

interface PatchesMeta {
  classes: string[];
  size: number;
  columns: number;
  splits: Record<'train' | 'test', { count: number; labels: number[] }>;
}

/**
 * The embedded colour set: 32x32 RGB patches cut from six public-domain and CC0 photographs (an
 * astronaut, a cat, a coffee cup, the Hubble deep field, a retina, a rocket; the photographs that
 * Debian's python3-skimage ships, licences in `data/README.md`). Each photograph is a class: 500
 * training patches from its left 70% and 100 test patches from its right 30%, so no test pixel
 * was trained on. 2 MB in the package, so colour presets (colorization) run with no download. A
 * smoke-test set, not a benchmark: the classes differ mostly by their colours. Rebuilt by
 * `scripts/make-photo-patches.mjs`.
 *
 * @example { "type": "photo-patches", "trainLimit": 1000 }
 */
export default definePlugin({
  kind: 'dataset',
  name: 'photo-patches',
  description: 'embedded 32x32 colour patches of 6 public-domain/CC0 photographs (3,000 train, 600 test)',
  options: Type.Object({
    trainLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'use only the first N training patches (all classes stay present)' })),
    testLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'use only the first N test patches' })),
  }),
  create: (o) => ({
    async load() {
      const dir = path.join(packageRoot(), 'data', 'photo-patches');
      const metaFile = path.join(dir, 'patches.json');
      if (!fs.existsSync(metaFile)) throw new DataError(`${metaFile} is missing: the package's embedded photo patches were not installed`);
      const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as PatchesMeta;
      const train = await readSheet(dir, 'train', meta, o.trainLimit);
      const test = await readSheet(dir, 'test', meta, o.testLimit);
      const { mean, std } = channelStats(train.images, 3);
      const info = { name: 'photo-patches', height: meta.size, width: meta.size, channels: 3, numClasses: meta.classes.length, mean, std };
      return { info: { ...info, classNames: meta.classes }, train, test };
    },
  }),
});

/** Cut a split's sprite sheet (`columns` patches per row, row-major) into `[N, size, size, 3]` uint8. */
async function readSheet(dir: string, split: 'train' | 'test', meta: PatchesMeta, limit?: number): Promise<ImageSet> {
  // loaded here, not at import: importing selfsup must not load sharp's native addon
  const { default: sharp } = await import('sharp');
  const file = path.join(dir, `${split}.png`);
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { size: s, columns } = meta;
  const { count: total, labels } = meta.splits[split];
  const rows = Math.ceil(total / columns);
  if (info.width !== columns * s || info.height !== rows * s || info.channels !== 3)
    throw new DataError(`${file}: expected a ${columns * s} x ${rows * s} RGB sheet, got ${info.width} x ${info.height} x ${info.channels}`);
  const count = Math.min(total, limit ?? Infinity);
  const images = new Uint8Array(count * s * s * 3);
  const rowBytes = s * 3;
  for (let i = 0; i < count; i++) {
    const top = Math.floor(i / columns) * s;
    const left = (i % columns) * s;
    for (let y = 0; y < s; y++) {
      const src = ((top + y) * info.width + left) * 3;
      images.set(data.subarray(src, src + rowBytes), (i * s + y) * rowBytes);
    }
  }
  return { images, labels: Int32Array.from(labels.slice(0, count)), count };
}
