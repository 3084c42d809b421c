import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { DataError, channelStats, definePlugin, packageRoot, readIdxFile, type ImageSet } from '../../core/index.js';

const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/**
 * Fashion-MNIST (Xiao et al. 2017, MIT licence): 28x28 grey images of 10 clothing classes, read from
 * the four IDX .gz files (`train-images-idx3-ubyte.gz`, ...). Without `dir`, the subset embedded in
 * the package is used (the first 6,000 training and 1,000 test images), so the default run needs
 * no download. Debian: `apt-get install dataset-fashion-mnist` puts the full set in
 * /usr/share/datasets/fashion-mnist.
 *
 * @example { "type": "fashion-mnist", "dir": "/usr/share/datasets/fashion-mnist" }
 */
export default definePlugin({
  kind: 'dataset',
  name: 'fashion-mnist',
  description: 'Fashion-MNIST from IDX .gz files (default: the embedded 6k/1k subset)',
  reference: 'Xiao, Rasul & Vollgraf 2017',
  options: Type.Object({
    dir: Type.Optional(Type.String({ 'x-exists': 'dir', description: 'folder with the four IDX .gz files (default: embedded subset)' })),
    trainLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'use only the first N training images' })),
    testLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'use only the first N test images' })),
  }),
  create: (o) => ({
    async load() {
      const dir = o.dir ?? path.join(packageRoot(), 'data', 'fashion-mnist');
      const split = (images: string, labels: string, limit?: number): ImageSet => {
        const im = readIdxFile(path.join(dir, images));
        const lb = readIdxFile(path.join(dir, labels));
        if (im.dims.length !== 3 || im.dims[1] !== 28 || im.dims[2] !== 28)
          throw new DataError(`${images} in ${dir}: expected N x 28 x 28 images, got ${im.dims.join(' x ')}`);
        if (lb.dims.length !== 1) throw new DataError(`${labels} in ${dir}: expected N labels, got ${lb.dims.join(' x ')} (an image file?)`);
        if (lb.dims[0] !== im.dims[0]) throw new DataError(`${dir}: ${im.dims[0]} images in ${images} but ${lb.dims[0]} labels in ${labels}`);
        const count = Math.min(im.dims[0], limit ?? Infinity);
        const bad = lb.data.subarray(0, count).findIndex((l) => l >= CLASSES.length);
        if (bad >= 0)
          throw new DataError(
            `${labels} in ${dir}: label ${lb.data[bad]} at index ${bad} is not one of the ${CLASSES.length} classes (0 to ${CLASSES.length - 1})`,
          );
        return { images: im.data.subarray(0, count * 784), labels: Int32Array.from(lb.data.subarray(0, count)), count };
      };
      const train = split('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', o.trainLimit);
      const test = split('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', o.testLimit);
      const { mean, std } = channelStats(train.images, 1);
      return { info: { name: 'fashion-mnist', height: 28, width: 28, channels: 1, numClasses: 10, classNames: CLASSES, mean, std }, train, test };
    },
  }),
});
