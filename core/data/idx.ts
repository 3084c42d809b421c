import fs from 'node:fs';
import zlib from 'node:zlib';
import { DataError } from '../errors.js';
import { parseIdx } from './idx-parse.js';

/** An IDX file's bytes, gzipped or not (see `parseIdx`). */
export function readIdx(buf: Uint8Array, source = 'IDX data'): { dims: number[]; data: Uint8Array } {
  return parseIdx(buf[0] === 0x1f && buf[1] === 0x8b ? zlib.gunzipSync(buf) : buf, source);
}

export function readIdxFile(file: string): { dims: number[]; data: Uint8Array } {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new DataError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    return readIdx(buf, file);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${file} is corrupt: ${(e as Error).message}`);
  }
}
