import fs from 'node:fs';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { DataError, definePlugin, packageRoot } from '../../core/index.js';
import { PHOTO_PATCHES_LIMITS, loadPhotoPatches, type PatchesMeta } from './photo-patches-sheet.js';

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
    ...PHOTO_PATCHES_LIMITS,
  }),
  create: (o) => ({
    async load() {
      const dir = path.join(packageRoot(), 'data', 'photo-patches');
      const metaFile = path.join(dir, 'patches.json');
      if (!fs.existsSync(metaFile)) throw new DataError(`${metaFile} is missing: the package's embedded photo patches were not installed`);
      const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as PatchesMeta;
      // sharp is loaded here, not at import: importing selfsup must not load its native addon
      const { default: sharp } = await import('sharp');
      return loadPhotoPatches(
        meta,
        async (file) => {
          const { data, info } = await sharp(path.join(dir, file)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
          return { data, width: info.width, height: info.height, channels: info.channels };
        },
        dir,
        o,
      );
    },
  }),
});
