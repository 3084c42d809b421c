import { Type } from '@sinclair/typebox';
import { Rng, channelStats, definePlugin, type ImageSet } from '../../core/index.js';

/**
 * Synthetic labelled images for tests: each class is a bright square at its own position (on a
 * class-specific grid) on a noisy background, with a random jitter of the position, so a learned
 * encoder can separate classes. Deterministic per seed.
 *
 * @example { "type": "synthetic", "train": 256, "test": 64, "size": 16, "classes": 4 }
 */
export default definePlugin({
  kind: 'dataset',
  name: 'synthetic',
  description: 'generated squares-on-noise images, one position per class (tests)',
  options: Type.Object({
    train: Type.Integer({ default: 512, minimum: 1 }),
    test: Type.Integer({ default: 128, minimum: 0 }),
    size: Type.Integer({ default: 16, minimum: 8 }),
    channels: Type.Integer({ default: 1, minimum: 1, maximum: 4 }),
    classes: Type.Integer({ default: 4, minimum: 2, maximum: 16 }),
    noise: Type.Number({ default: 0.2, minimum: 0, maximum: 1 }),
  }),
  create: (o, ctx) => ({
    async load() {
      const rng = Rng.fromSeed(ctx.seed, 'synthetic');
      const grid = Math.ceil(Math.sqrt(o.classes));
      const cell = Math.floor(o.size / grid);
      const sq = Math.max(2, Math.floor(cell / 2));
      const make = (n: number): ImageSet => {
        const px = o.size * o.size * o.channels;
        const images = new Uint8Array(n * px);
        const labels = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          const label = i % o.classes;
          labels[i] = label;
          const y0 = Math.floor(label / grid) * cell + rng.int(Math.max(1, cell - sq + 1));
          const x0 = (label % grid) * cell + rng.int(Math.max(1, cell - sq + 1));
          for (let y = 0; y < o.size; y++)
            for (let x = 0; x < o.size; x++) {
              const inside = y >= y0 && y < y0 + sq && x >= x0 && x < x0 + sq;
              for (let c = 0; c < o.channels; c++) {
                const v = (inside ? 0.9 : 0.1) + o.noise * (rng.next() - 0.5);
                images[i * px + (y * o.size + x) * o.channels + c] = Math.round(255 * Math.min(1, Math.max(0, v)));
              }
            }
        }
        return { images, labels, count: n };
      };
      const train = make(o.train);
      const test = o.test > 0 ? make(o.test) : undefined;
      const { mean, std } = channelStats(train.images, o.channels);
      return { info: { name: 'synthetic', height: o.size, width: o.size, channels: o.channels, numClasses: o.classes, mean, std }, train, test };
    },
  }),
});
