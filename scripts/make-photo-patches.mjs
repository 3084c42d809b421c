#!/usr/bin/env node
// Builds data/photo-patches/: 32x32 colour patches cut from six public-domain / CC0 photographs
// that Debian ships in python3-skimage (0.19.3-8, skimage/data). Each photograph is a class. The
// training patches come from the left 70% of each photograph, the test patches from the right 30%,
// so no test pixel was seen in training. Deterministic: the same inputs give the same files.
//
//   apt-get download python3-skimage && dpkg -x python3-skimage_*.deb /tmp/skimage
//   node scripts/make-photo-patches.mjs /tmp/skimage/usr/lib/python3/dist-packages/skimage/data
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

const SRC = process.argv[2] ?? '/usr/lib/python3/dist-packages/skimage/data';
const OUT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'data', 'photo-patches');
// class name, file in skimage/data, licence as skimage's docstring states it
const PHOTOS = [
  ['astronaut', 'astronaut.png', 'public domain (NASA)'],
  ['cat', 'chelsea.png', 'CC0 (Stefan van der Walt)'],
  ['coffee', 'coffee.png', 'CC0 (Rachel Michetti)'],
  ['galaxies', 'hubble_deep_field.jpg', 'public domain (NASA)'],
  ['retina', 'retina.jpg', 'CC0 1.0 (Mikael Häggström)'],
  ['rocket', 'rocket.jpg', 'public domain (SpaceX)'],
];
const SIZE = 32;
const PER_CLASS = { train: 500, test: 100 };
const COLS = 50;

let state = 20161201;
const rand = () => {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

async function patches(file, split, count) {
  const img = sharp(path.join(SRC, file)).removeAlpha().toColourspace('srgb');
  const { width: W, height: H } = await img.metadata();
  const x0 = split === 'train' ? 0 : Math.floor(W * 0.7);
  const x1 = split === 'train' ? Math.floor(W * 0.7) : W;
  const out = [];
  for (let i = 0; i < count; i++) {
    const maxSide = Math.min(x1 - x0, H);
    const side = Math.max(SIZE, Math.round(Math.min(H, W) * (0.08 + 0.22 * rand())));
    const s = Math.min(side, maxSide);
    const left = x0 + Math.floor(rand() * (x1 - x0 - s + 1));
    const top = Math.floor(rand() * (H - s + 1));
    out.push(
      await sharp(path.join(SRC, file)).removeAlpha().extract({ left, top, width: s, height: s }).resize(SIZE, SIZE, { kernel: 'lanczos3' }).raw().toBuffer(),
    );
  }
  return out;
}

fs.mkdirSync(OUT, { recursive: true });
const meta = { classes: PHOTOS.map((p) => p[0]), size: SIZE, columns: COLS, splits: {} };
for (const split of ['train', 'test']) {
  const tiles = [];
  const labels = [];
  for (const [c, [, file]] of PHOTOS.entries()) {
    for (const t of await patches(file, split, PER_CLASS[split])) {
      tiles.push(t);
      labels.push(c);
    }
  }
  // shuffled, so that the first N patches (trainLimit, testLimit) hold every class
  for (let i = tiles.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [tiles[i], tiles[j]] = [tiles[j], tiles[i]];
    [labels[i], labels[j]] = [labels[j], labels[i]];
  }
  const rows = Math.ceil(tiles.length / COLS);
  const sheet = Buffer.alloc(rows * SIZE * COLS * SIZE * 3);
  tiles.forEach((t, i) => {
    const r = Math.floor(i / COLS),
      col = i % COLS;
    for (let y = 0; y < SIZE; y++) t.copy(sheet, ((r * SIZE + y) * COLS * SIZE + col * SIZE) * 3, y * SIZE * 3, (y + 1) * SIZE * 3);
  });
  // PNG: lossless, so the colours a colorization model learns are the photographs' own
  await sharp(sheet, { raw: { width: COLS * SIZE, height: rows * SIZE, channels: 3 } })
    .png({ compressionLevel: 9, effort: 10 })
    .toFile(path.join(OUT, `${split}.png`));
  meta.splits[split] = { count: tiles.length, labels };
  console.log(`${split}: ${tiles.length} patches, ${rows} x ${COLS} grid`);
}
fs.writeFileSync(path.join(OUT, 'patches.json'), JSON.stringify(meta) + '\n');
fs.writeFileSync(path.join(OUT, 'SOURCES.txt'), PHOTOS.map(([c, f, l]) => `${c}: skimage/data/${f}, ${l}`).join('\n') + '\n');
