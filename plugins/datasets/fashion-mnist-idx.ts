import { DataError, Type, channelStats, type ImageSet, type LoadedDataset } from '../../core/index.js';

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** The options both `fashion-mnist` plugins (Node's and the browser's) take to use part of a split. */
export const FASHION_MNIST_LIMITS = {
  trainLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'use only the first N training images' })),
  testLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'use only the first N test images' })),
};

/** An IDX file's dimensions and bytes, read from wherever the dataset lives (Node: a folder; a browser: the page's server). */
export type IdxReader = (file: string) => Promise<{ dims: number[]; data: Uint8Array }>;

/**
 * Fashion-MNIST from its four IDX files, checked (28x28 images, one label each, labels 0-9),
 * portable: `read` fetches a file by its official name, `where` names the place in messages.
 */
export async function loadFashionMnist(read: IdxReader, where: string, limits: { trainLimit?: number; testLimit?: number }): Promise<LoadedDataset> {
  const split = async (images: string, labels: string, limit?: number): Promise<ImageSet> => {
    const [im, lb] = await Promise.all([read(images), read(labels)]);
    if (im.dims.length !== 3 || im.dims[1] !== 28 || im.dims[2] !== 28)
      throw new DataError(`${images} in ${where}: expected N x 28 x 28 images, got ${im.dims.join(' x ')}`);
    if (lb.dims.length !== 1) throw new DataError(`${labels} in ${where}: expected N labels, got ${lb.dims.join(' x ')} (an image file?)`);
    if (lb.dims[0] !== im.dims[0]) throw new DataError(`${where}: ${im.dims[0]} images in ${images} but ${lb.dims[0]} labels in ${labels}`);
    const count = Math.min(im.dims[0], limit ?? Infinity);
    const bad = lb.data.subarray(0, count).findIndex((l) => l >= FASHION_MNIST_CLASSES.length);
    if (bad >= 0)
      throw new DataError(
        `${labels} in ${where}: label ${lb.data[bad]} at index ${bad} is not one of the ${FASHION_MNIST_CLASSES.length} classes (0 to ${FASHION_MNIST_CLASSES.length - 1})`,
      );
    return { images: im.data.subarray(0, count * 784), labels: Int32Array.from(lb.data.subarray(0, count)), count };
  };
  const train = await split('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', limits.trainLimit);
  const test = await split('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', limits.testLimit);
  const { mean, std } = channelStats(train.images, 1);
  return { info: { name: 'fashion-mnist', height: 28, width: 28, channels: 1, numClasses: 10, classNames: FASHION_MNIST_CLASSES, mean, std }, train, test };
}
