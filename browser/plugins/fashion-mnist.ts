import { Type } from '@sinclair/typebox';
import { DataError, definePlugin, parseIdx } from '../../core/portable.js';
import { FASHION_MNIST_LIMITS, loadFashionMnist } from '../../plugins/datasets/fashion-mnist-idx.js';

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
    ...FASHION_MNIST_LIMITS,
  }),
  create: (o) => ({
    load: () => loadFashionMnist(fetchIdx, `the page's server (${DATA_PATH}fashion-mnist/)`, o),
  }),
});
