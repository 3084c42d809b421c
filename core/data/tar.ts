import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { DataError } from '../errors.js';

const BLOCK = 512;

/**
 * Extract a `.tar.gz` (or plain `.tar`) into `dest`, streaming: nothing is held in memory beyond a
 * block, so multi-GB members (STL-10's unlabeled_X.bin) are fine. Reads ustar, GNU long names
 * (`L`) and pax headers (`x`: path, size); regular files and folders are written, links and
 * devices skipped. A member whose path is absolute or climbs out with `..` is refused. Returns the
 * relative paths of the files written.
 */
export async function extractTar(archive: string, dest: string): Promise<string[]> {
  const gz = fs.openSync(archive, 'r');
  const magic = Buffer.alloc(2);
  fs.readSync(gz, magic, 0, 2, 0);
  fs.closeSync(gz);
  const extractor = new TarExtractor(dest, archive);
  try {
    const source = fs.createReadStream(archive);
    if (magic[0] === 0x1f && magic[1] === 0x8b) await pipeline(source, zlib.createGunzip(), extractor);
    else await pipeline(source, extractor);
  } catch (e) {
    extractor.closeFile();
    if (e instanceof DataError) throw e;
    throw new DataError(`cannot extract ${archive}: ${(e as Error).message} (a damaged archive: delete it and fetch it again)`);
  }
  if (extractor.inEntry()) throw new DataError(`${archive} is truncated: it ends inside a member (delete it and fetch it again)`);
  return extractor.files;
}

class TarExtractor extends Writable {
  readonly files: string[] = [];
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** bytes of the current member's data still to come, then its padding */
  private remaining = 0;
  private padding = 0;
  private fd: number | undefined;
  /** a GNU long name or pax header being collected */
  private meta: { kind: 'L' | 'x' | 'skip'; chunks: Buffer[] } | undefined;
  private nextName: string | undefined;
  private nextSize: number | undefined;
  private ended = false;

  constructor(
    private readonly dest: string,
    private readonly archive: string,
  ) {
    super();
  }

  inEntry(): boolean {
    return !this.ended && (this.remaining > 0 || this.headerFill > 0);
  }

  closeFile(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    try {
      this.consume(chunk);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.closeFile();
    cb();
  }

  private consume(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.ended) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - at);
        const part = chunk.subarray(at, at + n);
        if (this.fd !== undefined) fs.writeSync(this.fd, part);
        else if (this.meta && this.meta.kind !== 'skip') this.meta.chunks.push(Buffer.from(part));
        this.remaining -= n;
        at += n;
        if (this.remaining === 0) this.endMember();
      } else if (this.padding > 0) {
        const n = Math.min(this.padding, chunk.length - at);
        this.padding -= n;
        at += n;
      } else {
        const n = Math.min(BLOCK - this.headerFill, chunk.length - at);
        chunk.copy(this.header, this.headerFill, at, at + n);
        this.headerFill += n;
        at += n;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.startMember();
        }
      }
    }
  }

  private startMember(): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      this.ended = true; // end-of-archive marker; what follows is padding
      return;
    }
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    if (sum !== readOctal(h, 148, 8)) throw new DataError(`${this.archive} is not a tar archive or is damaged (bad header checksum)`);
    const type = String.fromCharCode(h[156] || 48);
    let name = cString(h, 0, 100);
    if (h.toString('latin1', 257, 262) === 'ustar') {
      const prefix = cString(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    if (this.nextName !== undefined) name = this.nextName;
    const size = this.nextSize ?? readSize(h);
    this.nextName = this.nextSize = undefined;
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (type === 'L' || type === 'x') this.meta = { kind: type, chunks: [] };
    else if (type === '0' || type === '7') this.openFile(name);
    else if (type === '5') fs.mkdirSync(this.safePath(name), { recursive: true });
    else this.meta = { kind: 'skip', chunks: [] }; // links, devices, global pax headers
    if (this.remaining === 0) this.endMember();
  }

  private openFile(name: string): void {
    const file = this.safePath(name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, 'w');
    this.files.push(path.relative(this.dest, file));
  }

  private endMember(): void {
    this.closeFile();
    const meta = this.meta;
    this.meta = undefined;
    if (!meta || meta.kind === 'skip') return;
    const body = Buffer.concat(meta.chunks);
    if (meta.kind === 'L') this.nextName = cString(body, 0, body.length);
    else {
      // pax records: "<len> <key>=<value>\n"
      let at = 0;
      while (at < body.length) {
        const space = body.indexOf(0x20, at);
        const len = Number(body.toString('latin1', at, space));
        if (space < 0 || !Number.isInteger(len) || len <= 0) break;
        const record = body.toString('utf8', space + 1, at + len - 1);
        const eq = record.indexOf('=');
        const key = record.slice(0, eq);
        if (key === 'path') this.nextName = record.slice(eq + 1);
        else if (key === 'size') this.nextSize = Number(record.slice(eq + 1));
        at += len;
      }
    }
  }

  private safePath(name: string): string {
    const parts = name.split('/').filter((p) => p !== '' && p !== '.');
    if (name.startsWith('/') || parts.includes('..') || parts.length === 0)
      throw new DataError(`${this.archive} holds a member '${name}' outside its folder: refused (not the expected archive?)`);
    return path.join(this.dest, ...parts);
  }
}

function cString(b: Buffer, start: number, len: number): string {
  const end = b.indexOf(0, start);
  return b.toString('utf8', start, end < 0 || end > start + len ? start + len : end);
}

function readOctal(b: Buffer, start: number, len: number): number {
  const s = cString(b, start, len).trim();
  return s ? parseInt(s, 8) : 0;
}

/** the size field: octal, or GNU base-256 (high bit set) for members of 8 GB and more */
function readSize(h: Buffer): number {
  if (h[124] & 0x80) {
    let v = h[124] & 0x7f;
    for (let i = 125; i < 136; i++) v = v * 256 + h[i];
    return v;
  }
  return readOctal(h, 124, 12);
}
