import { Type } from '@sinclair/typebox';
import { Rng, channelStats, definePlugin, type ImageSet } from '../../core/index.js';

/**
 * Synthetic labelled images for tests: each class is a texture that survives crops and flips
 * (class mod 4: horizontal stripes, vertical stripes, checkerboard, dots; class div 4 sets the
 * period), with a random phase and contrast per image plus pixel noise. Deterministic per seed.
 *
 * @example { "type": "synthetic", "train": 256, "test": 64, "size": 16, "classes": 4 }
 */
export default definePlugin({
  kind: 'dataset',
  name: 'synthetic',
  description: 'generated textures on noise, one texture per class (tests)',
  options: Type.Object({
    train: Type.Integer({ default: 512, minimum: 1 }),
    test: Type.Integer({ default: 128, minimum: 0 }),
    size: Type.Integer({ default: 16, minimum: 8 }),
    channels: Type.Integer({ default: 1, minimum: 1, maximum: 4 }),
    classes: Type.Integer({ default: 4, minimum: 2, maximum: 16 }),
    noise: Type.Number({ default: 0.2, minimum: 0, maximum: 1, description: 'amplitude of uniform pixel noise' }),
  }),
  create: (o, ctx) => ({
    async load() {
      const rng = Rng.fromSeed(ctx.seed, 'synthetic');
      const make = (n: number): ImageSet => {
        const px = o.size * o.size * o.channels;
        const images = new Uint8Array(n * px);
        const labels = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          const label = i % o.classes;
          labels[i] = label;
          const kind = label % 4;
          const period = 2 + Math.floor(label / 4) * 2;
          const py = rng.int(period);
          const px0 = rng.int(period);
          const amp = rng.uniform(0.3, 0.5);
          for (let y = 0; y < o.size; y++)
            for (let x = 0; x < o.size; x++) {
              const sy = Math.floor((y + py) / (period / 2)) % 2;
              const sx = Math.floor((x + px0) / (period / 2)) % 2;
              const on = kind === 0 ? sy : kind === 1 ? sx : kind === 2 ? sy ^ sx : sy & sx;
              for (let c = 0; c < o.channels; c++) {
                const v = 0.5 + (on ? amp : -amp) + o.noise * (rng.next() - 0.5);
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
