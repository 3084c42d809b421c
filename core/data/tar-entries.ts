import { DataError } from '../errors.js';

/**
 * A tar (ustar) of a few whole files in memory, both ways, portable: the browser playground packs
 * a checkpoint into one download, and Node reads it back (`selfsup eval --checkpoint run.tar`).
 * Plain files only, names up to 100 bytes; for archives on disk see `extractTar`.
 */
export function packTar(files: Array<{ name: string; data: Uint8Array }>, mtime = 0): Uint8Array {
  const size = files.reduce((n, f) => n + 512 + Math.ceil(f.data.length / 512) * 512, 1024);
  const out = new Uint8Array(size);
  const enc = new TextEncoder();
  let at = 0;
  const put = (s: string, off: number, len: number) => out.set(enc.encode(s).subarray(0, len), at + off);
  const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, '0') + '\0';
  for (const f of files) {
    if (enc.encode(f.name).length > 100) throw new Error(`tar: name longer than 100 bytes: ${f.name}`);
    put(f.name, 0, 100);
    put(octal(0o644, 8), 100, 8);
    put(octal(0, 8), 108, 8);
    put(octal(0, 8), 116, 8);
    put(octal(f.data.length, 12), 124, 12);
    put(octal(mtime, 12), 136, 12);
    put('        ', 148, 8); // the checksum counts its own field as spaces
    put('0', 156, 1);
    put('ustar\u000000', 257, 8);
    const sum = out.subarray(at, at + 512).reduce((a, b) => a + b, 0);
    put(octal(sum, 7) + ' ', 148, 8);
    out.set(f.data, at + 512);
    at += 512 + Math.ceil(f.data.length / 512) * 512;
  }
  return out; // ends with two zero blocks
}

/** The plain files of an in-memory tar, by name; a damaged header is a DataError naming `source`. */
export function unpackTar(buf: Uint8Array, source = 'tar'): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const dec = new TextDecoder();
  const field = (at: number, off: number, len: number) => dec.decode(buf.subarray(at + off, at + off + len)).replace(/\0.*$/s, '');
  for (let at = 0; at + 512 <= buf.length;) {
    const header = buf.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const stored = parseInt(field(at, 148, 8).trim(), 8);
    const sum = header.reduce((a, b, i) => a + (i >= 148 && i < 156 ? 32 : b), 0);
    if (stored !== sum) throw new DataError(`${source} is not a tar archive or is damaged (header checksum at byte ${at})`);
    const name = field(at, 0, 100);
    const size = parseInt(field(at, 124, 12).trim() || '0', 8);
    const type = field(at, 156, 1);
    if (at + 512 + size > buf.length) throw new DataError(`${source} is truncated: ${name} needs ${size} bytes`);
    if (type === '0' || type === '') files.set(name.replace(/^\.\//, ''), buf.subarray(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}
