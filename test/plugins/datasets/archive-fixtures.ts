/**
 * Test fixtures for the downloading datasets: ustar .tar.gz archives built in memory, and a local
 * HTTP server (127.0.0.1, port 0) that serves one file, honours Range requests unless told not to,
 * can break the first transfer off halfway, and records every request it sees.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

export interface TarEntry {
  name: string;
  /** a folder when absent */
  data?: Uint8Array;
}

/** A gzipped ustar archive of `entries` (plus a GNU long-name record for names over 100 bytes). */
export function tarGz(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  const header = (name: string, size: number, type: string) => {
    const h = Buffer.alloc(512);
    h.write(name.slice(0, 99), 0, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(size.toString(8).padStart(11, '0') + '\0', 124);
    h.write('14000000000\0', 136);
    h.write('        ', 148);
    h.write(type, 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    return h;
  };
  const body = (data: Uint8Array) => {
    const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
    padded.set(data);
    return padded;
  };
  for (const e of entries) {
    if (Buffer.byteLength(e.name) > 99) {
      const long = Buffer.from(`${e.name}\0`);
      blocks.push(header('././@LongLink', long.length, 'L'), body(long));
    }
    if (e.data) blocks.push(header(e.name, e.data.length, '0'), body(e.data));
    else blocks.push(header(e.name, 0, '5'));
  }
  blocks.push(Buffer.alloc(1024));
  return zlib.gzipSync(Buffer.concat(blocks));
}

export const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

export interface ServedRequest {
  url: string;
  range?: string;
  status: number;
}

export interface FileServer {
  url: string;
  requests: ServedRequest[];
  close(): Promise<void>;
}

/**
 * Serve `body` at `/<name>`. `cutFirst`: the first response announces the whole length but the
 * connection is destroyed after half of it. `ranges: false`: Range headers are ignored (200 and
 * the whole file, as some servers do).
 */
export async function serveFile(name: string, body: Buffer, opts: { cutFirst?: boolean; ranges?: boolean } = {}): Promise<FileServer> {
  const requests: ServedRequest[] = [];
  const server = http.createServer((req, res) => {
    if (req.url !== `/${name}`) {
      requests.push({ url: req.url ?? '', status: 404 });
      res.writeHead(404).end('not found');
      return;
    }
    const range = req.headers.range;
    const m = /^bytes=(\d+)-$/.exec(range ?? '');
    const start = m && opts.ranges !== false ? Number(m[1]) : 0;
    if (start >= body.length && m && opts.ranges !== false) {
      requests.push({ url: req.url, range, status: 416 });
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    const status = start > 0 ? 206 : 200;
    requests.push({ url: req.url, range, status });
    const headers: Record<string, string | number> = { 'content-length': body.length - start, 'accept-ranges': 'bytes', 'content-type': 'application/x-gzip' };
    if (status === 206) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(status, headers);
    if (opts.cutFirst && requests.filter((r) => r.status !== 404).length === 1) {
      const half = Math.floor(body.length / 2);
      res.write(body.subarray(0, half), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/${name}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** CIFAR-10 fixture pixel: image `n` (over all training batches, or the test batch), channel `c`, position `p = y * 32 + x` */
export const cifarPixel = (n: number, c: number, p: number) => (n * 31 + c * 85 + p) % 256;

/** `cifar-10-binary.tar.gz` in the official layout: 2 records per training batch, 3 test records */
export function cifarArchive(): { archive: Buffer; trainLabels: number[]; testLabels: number[] } {
  const trainLabels = [3, 7, 0, 9, 1, 2, 5, 4, 8, 6];
  const testLabels = [9, 0, 4];
  const batch = (labels: number[], first: number) => {
    const buf = Buffer.alloc(labels.length * 3073);
    labels.forEach((l, r) => {
      buf[r * 3073] = l;
      for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) buf[r * 3073 + 1 + c * 1024 + p] = cifarPixel(first + r, c, p);
    });
    return buf;
  };
  const d = 'cifar-10-batches-bin';
  const entries: TarEntry[] = [{ name: `${d}/` }];
  for (let i = 1; i <= 5; i++) entries.push({ name: `${d}/data_batch_${i}.bin`, data: batch(trainLabels.slice(2 * (i - 1), 2 * i), 2 * (i - 1)) });
  entries.push({ name: `${d}/test_batch.bin`, data: batch(testLabels, 0) });
  const names = 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n';
  entries.push({ name: `${d}/batches.meta.txt`, data: Buffer.from(names) }, { name: `${d}/readme.html`, data: Buffer.from('<html></html>') });
  return { archive: tarGz(entries), trainLabels, testLabels };
}

/** STL-10 fixture pixel of image `n` of a file, channel `c`, row `y`, column `x` (not symmetric in x and y) */
export const stlPixel = (n: number, c: number, y: number, x: number) => (n * 13 + c * 60 + y * 2 + x * 5) % 256;

/** `stl10_binary.tar.gz` in the official layout: 3 labelled training, 2 test and 4 unlabelled images */
export function stlArchive(): { archive: Buffer; trainY: number[]; testY: number[]; unlabeled: number } {
  const images = (count: number, offset: number) => {
    const buf = Buffer.alloc(count * 27648);
    for (let n = 0; n < count; n++)
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < 96; y++)
          // column-major planes, as the official files (MATLAB order)
          for (let x = 0; x < 96; x++) buf[n * 27648 + c * 9216 + x * 96 + y] = stlPixel(n + offset, c, y, x);
    return buf;
  };
  const trainY = [1, 10, 5];
  const testY = [2, 7];
  const d = 'stl10_binary';
  const entries: TarEntry[] = [
    { name: `${d}/train_X.bin`, data: images(3, 0) },
    { name: `${d}/train_y.bin`, data: Buffer.from(trainY) },
    { name: `${d}/test_X.bin`, data: images(2, 100) },
    { name: `${d}/test_y.bin`, data: Buffer.from(testY) },
    { name: `${d}/unlabeled_X.bin`, data: images(4, 200) },
    { name: `${d}/class_names.txt`, data: Buffer.from('airplane\nbird\ncar\ncat\ndeer\ndog\nhorse\nmonkey\nship\ntruck\n') },
    { name: `${d}/fold_indices.txt`, data: Buffer.from('0 1 2\n') },
  ];
  return { archive: tarGz(entries), trainY, testY, unlabeled: 4 };
}
