import { Type } from '@sinclair/typebox';
import { DataError, channelStats, definePlugin, parseIdx, type ImageSet } from '../../core/portable.js';

const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Where the page serves the package's `data/` folder (`selfsup playground` does). */
export const DATA_PATH = '/data/';

/** Fetch one of the embedded IDX .gz files and inflate it in the browser. */
async function fetchIdx(file: string): Promise<{ dims: number[]; data: Uint8Array }> {
  const url = new URL(`${DATA_PATH}fashion-mnist/${file}`, self.location.origin).href;
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new DataError(`cannot fetch ${url}: HTTP ${res.status}`);
  const inflated = await new Response(res.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
  return parseIdx(new Uint8Array(inflated), url);
}

/**
 * The browser's `fashion-mnist`: the subset embedded in the package (6,000 training and 1,000 test
 * images), fetched as static files from the page's server, so the presets that name it run in a tab
 * unchanged. A tab has no file system: `dir` is refused by the schema.
 */
export default definePlugin({
  kind: 'dataset',
  name: 'fashion-mnist',
  description: 'Fashion-MNIST, the embedded 6k/1k subset, fetched from the page’s server',
  reference: 'Xiao, Rasul & Vollgraf 2017',
  options: Type.Object({
    trainLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'use only the first N training images' })),
    testLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'use only the first N test images' })),
  }),
  create: (o) => ({
    async load() {
      const split = async (images: string, labels: string, limit?: number): Promise<ImageSet> => {
        const [im, lb] = await Promise.all([fetchIdx(images), fetchIdx(labels)]);
        const count = Math.min(im.dims[0], lb.dims[0], limit ?? Infinity);
        return { images: im.data.subarray(0, count * 784), labels: Int32Array.from(lb.data.subarray(0, count)), count };
      };
      const [train, test] = await Promise.all([
        split('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', o.trainLimit),
        split('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', o.testLimit),
      ]);
      const { mean, std } = channelStats(train.images, 1);
      return { info: { name: 'fashion-mnist', height: 28, width: 28, channels: 1, numClasses: 10, classNames: CLASSES, mean, std }, train, test };
    },
  }),
});
