import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { DataError, EXTRACTED_MARKER, defaultCacheDir, extractTar, fetchArchive, type FetchOptions, type RemoteArchive } from '../../../cli/api.js';
import { serveFile, sha256, tarGz, type FileServer } from './archive-fixtures.js';

// a small archive with a payload large enough to be cut halfway (incompressible bytes)
const payload = crypto.randomBytes(300_000);
const archive = tarGz([
  { name: 'thing-bin/' },
  { name: 'thing-bin/data.bin', data: payload },
  { name: `thing-bin/${'long-name-'.repeat(12)}.txt`, data: Buffer.from('a GNU long name') },
]);
const SHA = sha256(archive);

const servers: FileServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});
const serve = async (opts: { cutFirst?: boolean; ranges?: boolean } = {}) => {
  const s = await serveFile('thing.tar.gz', archive, opts);
  servers.push(s);
  return s;
};
const spec = (url: string, sha = SHA): RemoteArchive => ({ name: 'thing', file: 'thing.tar.gz', url, sha256: sha, folder: 'thing-bin' });
const tmpCache = () => fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-cache-'));
/** fetchArchive with its progress captured and its notes collected */
const fetchInto = async (s: RemoteArchive, opts: FetchOptions) => {
  const out = new PassThrough();
  let progress = '';
  out.on('data', (d) => (progress += String(d)));
  const notes: string[] = [];
  const dir = await fetchArchive(s, { retryDelayMs: 10, log: (m) => notes.push(m), progress: out, ...opts });
  return { dir, progress, notes };
};

describe('dataset download (core/data/download.ts)', () => {
  it('downloads with progress, verifies, extracts atomically; a second run makes no request', async () => {
    const server = await serve();
    const cacheDir = tmpCache();
    const { dir, progress } = await fetchInto(spec(server.url), { cacheDir, download: true });
    expect(dir).toBe(path.join(cacheDir, 'thing', 'thing-bin'));
    expect(fs.readFileSync(path.join(dir, 'data.bin')).equals(payload)).toBe(true);
    expect(fs.readFileSync(path.join(dir, `${'long-name-'.repeat(12)}.txt`), 'utf8')).toBe('a GNU long name');
    expect(fs.readFileSync(path.join(dir, EXTRACTED_MARKER), 'utf8').trim()).toBe(SHA);
    // the verified archive stays in the cache; no partial, no temporary folder
    expect(fs.readdirSync(path.join(cacheDir, 'thing')).sort()).toEqual(['thing-bin', 'thing.tar.gz']);
    const kb = (archive.length / 1e3).toFixed(1);
    expect(progress).toContain(`downloading thing.tar.gz (${kb} kB)`);
    expect(progress).toMatch(new RegExp(`thing\\.tar\\.gz: ${kb}/${kb} kB \\(100\\.0%\\) [\\d.]+ MB/s`));
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0].range).toBeUndefined();

    const again = await fetchInto(spec(server.url), { cacheDir, download: true });
    expect(again.dir).toBe(dir);
    expect(again.progress).toBe('');
    expect(server.requests).toHaveLength(1);

    // the extracted folder gone, the verified archive there: extracted again, still no request
    fs.rmSync(dir, { recursive: true });
    await fetchInto(spec(server.url), { cacheDir });
    expect(fs.readFileSync(path.join(dir, 'data.bin')).equals(payload)).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('a checksum mismatch is refused with both hashes and the URL, and leaves nothing trusted', async () => {
    const server = await serve();
    const cacheDir = tmpCache();
    const wrong = 'ab'.repeat(32);
    const err = await fetchInto(spec(server.url, wrong), { cacheDir, download: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toContain(`SHA-256 ${SHA}, expected ${wrong}`);
    expect((err as Error).message).toContain(server.url);
    expect(fs.readdirSync(path.join(cacheDir, 'thing'))).toEqual([]);
    // nor does an archive with the wrong bytes put in the cache by hand get used
    fs.writeFileSync(path.join(cacheDir, 'thing', 'thing.tar.gz'), archive.subarray(0, 1000));
    await expect(fetchInto(spec(server.url), { cacheDir })).rejects.toThrow(/thing\.tar\.gz has SHA-256 [0-9a-f]{64}, expected/);
    expect(fs.existsSync(path.join(cacheDir, 'thing', 'thing-bin'))).toBe(false);
    expect(server.requests).toHaveLength(1);
  });

  it('a transfer cut halfway is resumed with a Range request by the next run', async () => {
    const server = await serve({ cutFirst: true });
    const cacheDir = tmpCache();
    const err = await fetchInto(spec(server.url), { cacheDir, download: true, retries: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(/connection closed at .* bytes .*run again to resume/);
    const partial = path.join(cacheDir, 'thing', 'thing.tar.gz.partial');
    const kept = fs.statSync(partial).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(archive.length);
    expect(fs.existsSync(path.join(cacheDir, 'thing', 'thing-bin'))).toBe(false);

    const { dir, progress } = await fetchInto(spec(server.url), { cacheDir, download: true });
    expect(server.requests.map((r) => [r.range, r.status])).toEqual([
      [undefined, 200],
      [`bytes=${kept}-`, 206],
    ]);
    expect(progress).toContain(`resuming at ${(kept / 1e3).toFixed(1)} kB`);
    expect(fs.readFileSync(path.join(cacheDir, 'thing', 'thing.tar.gz')).equals(archive)).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'data.bin')).equals(payload)).toBe(true);
  });

  it('within one run, a transfer that breaks off is retried from where it stopped', async () => {
    const server = await serve({ cutFirst: true });
    const { dir, notes } = await fetchInto(spec(server.url), { cacheDir: tmpCache(), download: true });
    expect(server.requests.map((r) => r.status)).toEqual([200, 206]);
    expect(server.requests[1].range).toMatch(/^bytes=\d+-$/);
    expect(notes.join('\n')).toMatch(/broke off .*resuming in/);
    expect(fs.readFileSync(path.join(dir, 'data.bin')).equals(payload)).toBe(true);
  });

  it('a server that ignores Range sends the whole file again, and the download starts from zero', async () => {
    const server = await serve({ cutFirst: true, ranges: false });
    const cacheDir = tmpCache();
    await fetchInto(spec(server.url), { cacheDir, download: true, retries: 0 }).catch(() => {});
    const dir = (await fetchInto(spec(server.url), { cacheDir, download: true })).dir;
    expect(server.requests[1].range).toMatch(/^bytes=/);
    expect(server.requests[1].status).toBe(200);
    expect(fs.readFileSync(path.join(cacheDir, 'thing', 'thing.tar.gz')).equals(archive)).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'data.bin')).equals(payload)).toBe(true);
  });

  it('offline: the error names the file, the folder to put it in and the URL', async () => {
    const cacheDir = tmpCache();
    const url = 'https://example.invalid/thing.tar.gz';
    const dir = path.join(cacheDir, 'thing');
    await expect(fetchInto(spec(url), { cacheDir })).rejects.toThrow(
      new DataError(`thing.tar.gz not found in ${dir}: download it from ${url} and put it there, or set download: true`),
    );
    // download: true but nothing listens there
    const server = await serve();
    const dead = server.url;
    await server.close();
    servers.length = 0;
    const err = await fetchInto(spec(dead), { cacheDir, download: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toContain(`cannot download ${dead}`);
    expect((err as Error).message).toContain(`put thing.tar.gz in ${dir}`);
  });

  it('a leftover of a killed extraction is never trusted, and an archive put there by hand is used without a request', async () => {
    const cacheDir = tmpCache();
    const dir = path.join(cacheDir, 'thing');
    // a killed run: a half-extracted temporary folder, the archive already verified
    fs.mkdirSync(path.join(dir, '.extract-abc123', 'thing-bin'), { recursive: true });
    fs.writeFileSync(path.join(dir, '.extract-abc123', 'thing-bin', 'data.bin'), payload.subarray(0, 10));
    fs.writeFileSync(path.join(dir, 'thing.tar.gz'), archive);
    const { dir: out } = await fetchInto(spec('http://127.0.0.1:9/never-asked'), { cacheDir });
    expect(fs.readFileSync(path.join(out, 'data.bin')).equals(payload)).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(['thing-bin', 'thing.tar.gz']);
    // an extracted folder from another archive (its marker names another hash) is extracted anew
    fs.writeFileSync(path.join(out, EXTRACTED_MARKER), 'cd'.repeat(32));
    fs.writeFileSync(path.join(out, 'data.bin'), 'stale');
    await fetchInto(spec('http://127.0.0.1:9/never-asked'), { cacheDir });
    expect(fs.readFileSync(path.join(out, 'data.bin')).equals(payload)).toBe(true);
  });

  it('extractTar refuses a member outside its folder; the cache folder follows SELFSUP_CACHE', async () => {
    const dest = tmpCache();
    const evil = path.join(dest, 'evil.tar.gz');
    fs.writeFileSync(evil, tarGz([{ name: '../escaped.txt', data: Buffer.from('x') }]));
    await expect(extractTar(evil, path.join(dest, 'out'))).rejects.toThrow(/outside its folder/);
    expect(fs.existsSync(path.join(dest, 'escaped.txt'))).toBe(false);
    const before = process.env.SELFSUP_CACHE;
    process.env.SELFSUP_CACHE = dest;
    try {
      expect(defaultCacheDir()).toBe(dest);
    } finally {
      if (before === undefined) delete process.env.SELFSUP_CACHE;
      else process.env.SELFSUP_CACHE = before;
    }
  });
});
