import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { DecodePool, type Decoded, type DecodeOptions } from '../../../plugins/datasets/image-decode.js';
import { jpegAddonFile } from '../../../plugins/datasets/jpeg-addon.js';

/**
 * selfsup's libjpeg-turbo decoder (native/src/jpeg) against sharp: where it decodes, the bytes are
 * sharp's; where sharp would do something else (CMYK, an ICC profile, a resize, colour to grey, a
 * damaged file) it declines and sharp decodes. Skipped, with the reason, where the addon is not
 * built; SELFSUP_REQUIRE_NATIVE=1 (CI) makes that a failure.
 */
const found = jpegAddonFile();
const required = process.env.SELFSUP_REQUIRE_NATIVE === '1';
if (!found.ok && !required) console.warn(`JPEG addon test skipped: ${found.ok ? '' : found.reason}`);

type Addon = {
  decode(bytes: Uint8Array, channels: number, size: number): { data: Buffer; width: number; height: number } | string;
  header(bytes: Uint8Array): { width: number; height: number } | string;
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-jpeg-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An image with edges, gradients and noise in every channel (so chroma subsampling and the IDCT matter). */
function pixels(w: number, h: number, seed: number): Buffer {
  const out = Buffer.alloc(w * h * 3);
  let s = seed;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const i = (y * w + x) * 3;
      out[i] = (x * 255) / Math.max(1, w - 1);
      out[i + 1] = (x + y) % 7 < 3 ? 230 : 20;
      out[i + 2] = s >>> 24;
    }
  return out;
}

async function jpegFile(name: string, w: number, h: number, opts: sharp.JpegOptions & { grey?: boolean; cmyk?: boolean; icc?: boolean }, seed = 1) {
  let img = sharp(pixels(w, h, seed), { raw: { width: w, height: h, channels: 3 } });
  if (opts.grey) img = img.toColourspace('b-w');
  if (opts.cmyk) img = img.toColourspace('cmyk');
  if (opts.icc) img = img.withIccProfile('p3');
  const file = path.join(dir, name);
  await img.jpeg({ quality: opts.quality, chromaSubsampling: opts.chromaSubsampling, progressive: opts.progressive }).toFile(file);
  return file;
}

/** The files the addon must decode itself, with the options they are read with. */
const exact: Array<{ name: string; w: number; h: number; jpeg: sharp.JpegOptions & { grey?: boolean }; read: DecodeOptions }> = [
  { name: 'q90-420.jpg', w: 32, h: 32, jpeg: { quality: 90, chromaSubsampling: '4:2:0' }, read: { size: 32, channels: 3 } },
  { name: 'q50-444.jpg', w: 32, h: 32, jpeg: { quality: 50, chromaSubsampling: '4:4:4' }, read: { size: 32, channels: 3 } },
  { name: 'progressive.jpg', w: 32, h: 32, jpeg: { quality: 75, progressive: true }, read: { size: 32, channels: 3 } },
  { name: 'odd-size.jpg', w: 33, h: 17, jpeg: { quality: 80 }, read: { channels: 3 } },
  { name: 'large.jpg', w: 200, h: 120, jpeg: { quality: 95, chromaSubsampling: '4:2:0' }, read: { channels: 3 } },
  { name: 'grey-as-rgb.jpg', w: 32, h: 32, jpeg: { quality: 85, grey: true }, read: { size: 32, channels: 3 } },
  { name: 'grey.jpg', w: 32, h: 32, jpeg: { quality: 85, grey: true }, read: { size: 32, channels: 1 } },
];

const sharpOnly = (r: Decoded) => {
  if (!r.ok) throw new Error(r.error);
  return r;
};

describe.skipIf(!found.ok && !required)('the libjpeg-turbo decoder (selfsup_jpeg)', () => {
  const addon = () => {
    if (!found.ok) throw new Error(`SELFSUP_REQUIRE_NATIVE=1 and the JPEG addon is missing: ${found.reason}`);
    return createRequire(import.meta.url)(found.file) as Addon;
  };

  it("decodes baseline, progressive, 4:2:0, 4:4:4, odd-sized and grey JPEGs itself, to sharp's bytes exactly", async () => {
    const withAddon = new DecodePool(2);
    process.env.SELFSUP_NATIVE_JPEG = '0';
    const sharpPool = new DecodePool(0);
    delete process.env.SELFSUP_NATIVE_JPEG;
    expect(withAddon.jpegDecoder).toBe('libjpeg-turbo');
    expect(sharpPool.jpegDecoder).toBe('sharp (selfsup_jpeg turned off (SELFSUP_NATIVE_JPEG=0))');
    try {
      for (const [k, c] of exact.entries()) {
        const file = await jpegFile(c.name, c.w, c.h, c.jpeg, k + 1);
        // the addon itself decodes it (not a silent hand-over to sharp)
        const own = addon().decode(fs.readFileSync(file), c.read.channels, c.read.size ?? 0);
        expect(typeof own, c.name).toBe('object');
        const [fast] = await withAddon.decode([file], c.read);
        const [slow] = await sharpPool.decode([file], c.read);
        const a = sharpOnly(fast);
        const b = sharpOnly(slow);
        expect([a.width, a.height], c.name).toEqual([c.w, c.h]);
        expect([b.width, b.height], c.name).toEqual([c.w, c.h]);
        expect(a.data.length, c.name).toBe(c.w * c.h * c.read.channels);
        expect(Buffer.from(a.data).equals(Buffer.from(b.data)), c.name).toBe(true);
        expect((own as { data: Buffer }).data.equals(Buffer.from(b.data)), c.name).toBe(true);
        // the probe at load: the header's size, as sharp's metadata says
        expect(addon().header(fs.readFileSync(file)), c.name).toEqual({ width: c.w, height: c.h });
        expect(await withAddon.probe([file]), c.name).toEqual(await sharpPool.probe([file]));
      }
      // 130 KB of application segments before the frame header: past the 64 KB the probe reads, so sharp reads the header
      const plain = fs.readFileSync(await jpegFile('plain.jpg', 40, 24, { quality: 90 }));
      const app = (fill: number) => Buffer.concat([Buffer.from([0xff, 0xef, 0xff, 0xff]), Buffer.alloc(0xfffd, fill)]);
      const padded = path.join(dir, 'big-metadata.jpg');
      fs.writeFileSync(padded, Buffer.concat([plain.subarray(0, 2), app(1), app(2), plain.subarray(2)]));
      expect(typeof addon().header(fs.readFileSync(padded).subarray(0, 65536))).toBe('string');
      expect(addon().header(fs.readFileSync(padded))).toEqual({ width: 40, height: 24 });
      expect(await withAddon.probe([padded])).toEqual([{ ok: true, width: 40, height: 24 }]);
    } finally {
      await withAddon.close();
      await sharpPool.close();
    }
  });

  it("declines what sharp does otherwise, naming why, and the pool then gives sharp's result", async () => {
    const cmyk = await jpegFile('cmyk.jpg', 32, 32, { quality: 90, cmyk: true });
    const icc = await jpegFile('icc.jpg', 32, 32, { quality: 90, icc: true });
    const colour = await jpegFile('colour.jpg', 32, 32, { quality: 90 });
    const whole = fs.readFileSync(colour);
    const cut = path.join(dir, 'truncated.jpg');
    fs.writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const png = path.join(dir, 'image.png');
    await sharp(pixels(32, 32, 9), { raw: { width: 32, height: 32, channels: 3 } })
      .png()
      .toFile(png);

    const a = addon();
    expect(a.decode(fs.readFileSync(cmyk), 3, 32)).toBe('CMYK');
    expect(a.decode(fs.readFileSync(icc), 3, 32)).toBe('an ICC profile');
    expect(a.decode(whole, 1, 32)).toBe('a colour JPEG to grey');
    expect(a.decode(whole, 3, 16)).toBe('a resize');
    expect(a.decode(fs.readFileSync(png), 3, 32)).toBe('not a JPEG');
    expect(a.header(fs.readFileSync(png))).toBe('not a JPEG');
    expect(typeof a.decode(fs.readFileSync(cut), 3, 32)).toBe('string');
    expect(() => a.decode(new Float32Array(4) as unknown as Uint8Array, 3, 32)).toThrow(/decode\(bytes: Uint8Array/);

    const withAddon = new DecodePool(2);
    process.env.SELFSUP_NATIVE_JPEG = '0';
    const sharpPool = new DecodePool(2);
    delete process.env.SELFSUP_NATIVE_JPEG;
    try {
      const cases: Array<[string, DecodeOptions]> = [
        [cmyk, { size: 32, channels: 3 }],
        [icc, { size: 32, channels: 3 }],
        [colour, { size: 32, channels: 1 }],
        [colour, { size: 16, channels: 3 }],
        [png, { size: 32, channels: 3 }],
      ];
      for (const [file, o] of cases) {
        const [x] = await withAddon.decode([file], o);
        const [y] = await sharpPool.decode([file], o);
        const p = sharpOnly(x);
        const q = sharpOnly(y);
        expect([p.width, p.height], file).toEqual([o.size, o.size]);
        expect(Buffer.from(p.data).equals(Buffer.from(q.data)), file).toBe(true);
      }
      // a damaged file fails as it does with sharp alone (onBadImage then decides)
      const [bad] = await withAddon.decode([cut], { size: 32, channels: 3 });
      const [badSharp] = await sharpPool.decode([cut], { size: 32, channels: 3 });
      expect(bad.ok).toBe(false);
      expect(bad).toEqual(badSharp);
    } finally {
      await withAddon.close();
      await sharpPool.close();
    }
  });

  it('a worker loads sharp only for a file the addon declines; a sharp that will not load there ends it, and the main thread decodes the call', async () => {
    const broken = path.join(dir, 'not-sharp.cjs');
    fs.writeFileSync(broken, "throw new Error('this is not sharp');\n");
    const plain = await jpegFile('plain.jpg', 32, 32, { quality: 90 });
    const cmyk = await jpegFile('cmyk-2.jpg', 32, 32, { quality: 90, cmyk: true });
    const logs: string[] = [];
    const pool = new DecodePool(2, 16, (m) => logs.push(m), broken);
    const reference = new DecodePool(0);
    try {
      // plain JPEGs: the addon decodes them in the workers, which never load the broken sharp
      const [a] = await pool.decode([plain], { size: 32, channels: 3 });
      expect(a.ok).toBe(true);
      expect(pool.threads).toBe(2);
      expect(logs).toEqual([]);
      // CMYK needs sharp: the worker that gets it cannot load it, and the call is decoded again here
      const [c] = await pool.decode([cmyk], { size: 32, channels: 3 });
      const [ref] = await reference.decode([cmyk], { size: 32, channels: 3 });
      expect(Buffer.from(sharpOnly(c).data).equals(Buffer.from(sharpOnly(ref).data))).toBe(true);
      expect(pool.threads).toBe(0);
      expect(logs.join('\n')).toMatch(/worker threads unavailable \(sharp did not load in a decode worker: this is not sharp\); decoding in the main thread/);
    } finally {
      await pool.close();
      await reference.close();
    }
  });
});
