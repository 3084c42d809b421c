import fs from 'node:fs';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { DataError, channelStats, definePlugin, type ImageSet } from '../../core/index.js';

const IMAGE_RE = /\.(jpe?g|png|webp|gif|bmp|tiff?)$/i;

/**
 * Class-per-folder images, like torchvision's ImageFolder: `root/<split>/<class>/<image>`. Classes
 * are the sorted sub-folder names of the training split. Images are decoded with sharp (libvips),
 * resized to `size` x `size` (if given) and kept as uint8. CIFAR-10 in this layout:
 * `tar -xzf cifar10-jpeg.tar.gz` then `root: "cifar10-jpeg"`.
 *
 * @example { "type": "image-folder", "root": "cifar10-jpeg", "size": 32 }
 */
export default definePlugin({
  kind: 'dataset',
  name: 'image-folder',
  description: 'class-per-folder JPEG/PNG images (root/train/<class>/*, root/test/<class>/*)',
  options: Type.Object({
    root: Type.String({ 'x-exists': 'dir', description: 'folder holding the split folders' }),
    train: Type.String({ default: 'train', description: 'training split folder under root' }),
    test: Type.Optional(Type.String({ default: 'test', description: 'test split folder under root ("" for none)' })),
    size: Type.Optional(Type.Integer({ minimum: 1, description: 'resize every image to size x size (default: keep; all must then be equal)' })),
    channels: Type.Union([Type.Literal(1), Type.Literal(3)], { default: 3, description: '3 (RGB) or 1 (grey)' }),
    limit: Type.Optional(Type.Integer({ minimum: 1, description: 'at most N images per class and split' })),
    concurrency: Type.Integer({ default: 16, minimum: 1, description: 'images decoded in parallel' }),
  }),
  create: (o) => ({
    async load() {
      const trainDir = path.join(o.root, o.train);
      if (!fs.existsSync(trainDir)) throw new DataError(`no training split at ${trainDir}: expected ${o.root}/${o.train}/<class>/<image>`);
      const classes = fs
        .readdirSync(trainDir)
        .filter((d) => fs.statSync(path.join(trainDir, d)).isDirectory())
        .sort();
      if (classes.length === 0) throw new DataError(`${trainDir} has no class folders`);
      const train = await readSplit(trainDir, classes, o);
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
      const test = testDir && fs.existsSync(testDir) ? await readSplit(testDir, classes, o) : undefined;
      const { mean, std } = channelStats(train.set.images, o.channels);
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
    },
  }),
});

async function readSplit(dir: string, classes: string[], o: { size?: number; channels: 1 | 3; limit?: number; concurrency: number }) {
  const files: Array<{ file: string; label: number }> = [];
  classes.forEach((c, label) => {
    const cdir = path.join(dir, c);
    if (!fs.existsSync(cdir)) return;
    const names = fs
      .readdirSync(cdir)
      .filter((f) => IMAGE_RE.test(f))
      .sort();
    if (names.length === 0) throw new DataError(`class folder ${cdir} holds no image (.jpg, .jpeg, .png): remove it, or it would be a class without examples`);
    for (const f of names.slice(0, o.limit ?? names.length)) files.push({ file: path.join(cdir, f), label });
  });
  if (files.length === 0) throw new DataError(`no images under ${dir}`);
  let h = o.size ?? 0;
  let w = o.size ?? 0;
  let images = new Uint8Array(0);
  // loaded here, not at import: importing selfsup must not load sharp's native addon
  const { default: sharp } = await import('sharp');
  const decode = async (file: string) => {
    try {
      let img = sharp(file).removeAlpha();
      if (o.channels === 1) img = img.grayscale();
      if (o.size) img = img.resize(o.size, o.size, { fit: 'fill' });
      const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height, channels: info.channels };
    } catch (e) {
      throw new DataError(`cannot decode ${file}: ${(e as Error).message} (a corrupt or non-image file; remove it or fix it)`);
    }
  };
  const first = await decode(files[0].file);
  h = first.height;
  w = first.width;
  const px = h * w * o.channels;
  images = new Uint8Array(files.length * px);
  const labels = new Int32Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const img = i === 0 ? first : await decode(files[i].file);
      if (img.width !== w || img.height !== h || img.channels !== o.channels) {
        throw new DataError(
          `${files[i].file} is ${img.width}x${img.height}x${img.channels}, others ${w}x${h}x${o.channels}: set the dataset's 'size' to resize all images`,
        );
      }
      images.set(img.data, i * px);
      labels[i] = files[i].label;
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const set: ImageSet = { images, labels, count: files.length };
  return { set, h, w };
}
