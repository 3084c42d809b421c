import { DataError } from '../errors.js';

/**
 * Parse an uncompressed IDX file (MNIST / Fashion-MNIST): big-endian magic `0x00000803` (uint8,
 * 3 dims) or `0x00000801` (1 dim), the dimensions, then the data. Portable: the browser's datasets
 * inflate with DecompressionStream, Node's `readIdx` with zlib.
 */
export function parseIdx(buf: Uint8Array, source = 'IDX data'): { dims: number[]; data: Uint8Array } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 4 || view.getUint16(0) !== 0 || buf[2] !== 0x08) {
    throw new DataError(`${source} is not an uint8 IDX file (bad magic number)`);
  }
  const ndim = buf[3];
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i));
  const offset = 4 + 4 * ndim;
  const size = dims.reduce((a, b) => a * b, 1);
  if (buf.length - offset !== size) throw new DataError(`${source} is truncated or corrupt: header says ${size} bytes, found ${buf.length - offset}`);
  return { dims, data: buf.subarray(offset) };
}
