import { DataError, Type, channelStats, type ImageSet, type LoadedDataset } from '../../core/index.js';

/** `data/photo-patches/patches.json`: the classes, the patch size, and each split's count and labels. */
export interface PatchesMeta {
  classes: string[];
  size: number;
  columns: number;
  splits: Record<'train' | 'test', { count: number; labels: number[] }>;
}

/** The options both `photo-patches` plugins (Node's and the browser's) take to use part of a split. */
export const PHOTO_PATCHES_LIMITS = {
  trainLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'use only the first N training patches (all classes stay present)' })),
  testLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'use only the first N test patches' })),
};

/** A split's sprite sheet decoded to row-major pixels of 3 (RGB) or 4 (RGBA, alpha ignored) channels. */
export interface DecodedSheet {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * The embedded photo patches from `meta` and the two sprite sheets `read` decodes (Node: sharp on
 * the package's files; a browser: the page's server and createImageBitmap), portable; `where`
 * names the place in messages.
 */
export async function loadPhotoPatches(
  meta: PatchesMeta,
  read: (file: 'train.png' | 'test.png') => Promise<DecodedSheet>,
  where: string,
  limits: { trainLimit?: number; testLimit?: number },
): Promise<LoadedDataset> {
  const train = cutSheet(await read('train.png'), `train.png in ${where}`, meta, 'train', limits.trainLimit);
  const test = cutSheet(await read('test.png'), `test.png in ${where}`, meta, 'test', limits.testLimit);
  const { mean, std } = channelStats(train.images, 3);
  const info = { name: 'photo-patches', height: meta.size, width: meta.size, channels: 3, numClasses: meta.classes.length, mean, std };
  return { info: { ...info, classNames: meta.classes }, train, test };
}

/** Cut a split's sprite sheet (`columns` patches per row, row-major) into `[N, size, size, 3]` uint8. */
function cutSheet(sheet: DecodedSheet, name: string, meta: PatchesMeta, split: 'train' | 'test', limit?: number): ImageSet {
  const { size: s, columns } = meta;
  const { count: total, labels } = meta.splits[split];
  const rows = Math.ceil(total / columns);
  const { data, width, channels: c } = sheet;
  if (width !== columns * s || sheet.height !== rows * s || (c !== 3 && c !== 4))
    throw new DataError(`${name}: expected a ${columns * s} x ${rows * s} RGB sheet, got ${width} x ${sheet.height} x ${c}`);
  const count = Math.min(total, limit ?? Infinity);
  const images = new Uint8Array(count * s * s * 3);
  let o = 0;
  for (let i = 0; i < count; i++) {
    const top = Math.floor(i / columns) * s;
    const left = (i % columns) * s;
    for (let y = 0; y < s; y++)
      for (let x = 0, p = ((top + y) * width + left) * c; x < s; x++, p += c) {
        images[o++] = data[p];
        images[o++] = data[p + 1];
        images[o++] = data[p + 2];
      }
  }
  return { images, labels: Int32Array.from(labels.slice(0, count)), count };
}
