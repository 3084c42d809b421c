import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { definePlugin, packageRoot, readIdxFile } from '../../core/index.js';
import { FASHION_MNIST_LIMITS, loadFashionMnist } from './fashion-mnist-idx.js';

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
    ...FASHION_MNIST_LIMITS,
  }),
  create: (o) => ({
    async load() {
      const dir = o.dir ?? path.join(packageRoot(), 'data', 'fashion-mnist');
      return loadFashionMnist(async (file) => readIdxFile(path.join(dir, file)), dir, o);
    },
  }),
});
