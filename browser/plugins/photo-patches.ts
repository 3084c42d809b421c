import { DataError, Type, definePlugin } from '../../core/portable.js';
import { PHOTO_PATCHES_LIMITS, loadPhotoPatches, type DecodedSheet, type PatchesMeta } from '../../plugins/datasets/photo-patches-sheet.js';
import { DATA_PATH } from './fashion-mnist.js';

const where = `the page's server (${DATA_PATH}photo-patches/)`;

async function fetchOk(file: string): Promise<Response> {
  const url = new URL(`${DATA_PATH}photo-patches/${file}`, self.location.origin).href;
  const res = await fetch(url);
  if (!res.ok) throw new DataError(`cannot fetch ${url}: HTTP ${res.status}`);
  return res;
}

/**
 * A sprite sheet decoded by the browser: createImageBitmap with no colour-space conversion and no
 * premultiplied alpha (the sheets are opaque palette PNGs with no colour profile, so the bytes are
 * the file's, as sharp gives them in Node), read back from an OffscreenCanvas as RGBA.
 */
async function decodeSheet(file: string): Promise<DecodedSheet> {
  const bitmap = await createImageBitmap(await (await fetchOk(file)).blob(), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const g = canvas.getContext('2d', { willReadFrequently: true });
  if (!g) throw new DataError(`${file} in ${where}: this browser gives no 2-D canvas to decode it`);
  g.drawImage(bitmap, 0, 0);
  const { data, width, height } = g.getImageData(0, 0, bitmap.width, bitmap.height);
  bitmap.close();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height, channels: 4 };
}

/**
 * The browser's `photo-patches`: the embedded colour set (3,000 training and 600 test patches),
 * its PNG sprite sheets fetched from the page's server and decoded by the browser, so the
 * colorization preset runs in a tab unchanged.
 */
export default definePlugin({
  kind: 'dataset',
  name: 'photo-patches',
  description: 'embedded 32x32 colour patches of 6 public-domain/CC0 photographs, fetched from the page’s server',
  options: Type.Object({
    ...PHOTO_PATCHES_LIMITS,
  }),
  create: (o) => ({
    async load() {
      const meta = (await (await fetchOk('patches.json')).json()) as PatchesMeta;
      return loadPhotoPatches(meta, decodeSheet, where, o);
    },
  }),
});
