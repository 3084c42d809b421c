/**
 * Where image-folder's JPEG decoder is: `native/build/selfsup_jpeg.node` (libjpeg-turbo's
 * TurboJPEG, built at install by native/build.mjs where `libturbojpeg0-dev` is present). It decodes
 * a 32 px JPEG in about 15 µs of CPU where sharp takes about 500 µs, and only where its pixels are
 * sharp's byte for byte; it declines the rest (CMYK, ICC profiles, resizes, colour to grey,
 * warnings), which sharp then decodes as before. Without it, sharp decodes everything.
 * `SELFSUP_NATIVE_JPEG=0` turns it off.
 */
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../core/index.js';

export type JpegAddonFile = { ok: true; file: string } | { ok: false; reason: string };

/** The addon's file, or why there is none (the reason native/build.mjs recorded). */
export function jpegAddonFile(): JpegAddonFile {
  if (process.env.SELFSUP_NATIVE_JPEG === '0') return { ok: false, reason: 'turned off (SELFSUP_NATIVE_JPEG=0)' };
  let build: string;
  try {
    build = path.join(packageRoot(), 'native', 'build');
  } catch {
    return { ok: false, reason: 'not inside the selfsup package' };
  }
  const file = path.join(build, 'selfsup_jpeg.node');
  if (fs.existsSync(file)) return { ok: true, file };
  const note = path.join(build, 'jpeg-unavailable.txt');
  return {
    ok: false,
    reason: fs.existsSync(note) ? `not built: ${fs.readFileSync(note, 'utf8').trim()}` : `not built (node native/build.mjs; it needs libturbojpeg0-dev)`,
  };
}
