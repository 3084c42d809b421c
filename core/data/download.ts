import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { DataError, EnvironmentError, asEnvironmentError } from '../errors.js';
import { acquireLock } from '../util/lock.js';
import { makeDirs } from '../util/make-dirs.js';
import { etaText } from '../util/text.js';
import { extractTar } from './tar.js';

/** An archive a dataset plugin can fetch: where it comes from, its checksum and what it extracts to. */
export interface RemoteArchive {
  /** the dataset's folder under the cache directory (`cifar10`) */
  name: string;
  /** the archive's file name (`cifar-10-binary.tar.gz`) */
  file: string;
  url: string;
  /** SHA-256 of the archive, lower-case hex */
  sha256: string;
  /** the folder the archive extracts to (`cifar-10-batches-bin`) */
  folder: string;
  /** bytes, for the progress line before the server says (optional) */
  size?: number;
}

export interface FetchOptions {
  /** fetch the archive when it is not in the cache (default false: a DataError says where to put it) */
  download?: boolean;
  /** default: `defaultCacheDir()` */
  cacheDir?: string;
  /** a mirror (default: the archive's official URL) */
  url?: string;
  /** expected SHA-256 (default: the archive's official one) */
  sha256?: string;
  /** where the progress line goes (default stderr; false: nowhere) */
  progress?: NodeJS.WritableStream | false;
  /** further attempts after a transfer breaks off, each resuming where it stopped (default 3) */
  retries?: number;
  /** wait before the first retry, doubled for each next one (default 2000 ms) */
  retryDelayMs?: number;
  log?: (message: string) => void;
}

/** The options a dataset plugin that downloads offers (spread them into its `Type.Object`). */
export const DOWNLOAD_OPTIONS = {
  download: Type.Boolean({ default: false, description: 'download the archive into the cache when it is not there (verified by SHA-256)' }),
  cacheDir: Type.Optional(Type.String({ description: 'cache folder (default: $SELFSUP_CACHE, else $XDG_CACHE_HOME/selfsup, else ~/.cache/selfsup)' })),
  url: Type.Optional(Type.String({ description: 'download from this URL instead of the official one (a mirror)' })),
  sha256: Type.Optional(
    Type.String({
      pattern: '^[0-9a-fA-F]{64}$',
      description: "expected SHA-256 of the archive (default: the official archive's); for a mirror that repacks it",
    }),
  ),
};

/** `$SELFSUP_CACHE`, else `$XDG_CACHE_HOME/selfsup`, else `~/.cache/selfsup`. */
export function defaultCacheDir(): string {
  if (process.env.SELFSUP_CACHE) return path.resolve(process.env.SELFSUP_CACHE);
  if (process.env.XDG_CACHE_HOME) return path.join(path.resolve(process.env.XDG_CACHE_HOME), 'selfsup');
  return path.join(os.homedir(), '.cache', 'selfsup');
}

/** Marker written into an extracted folder before it is renamed into place: the SHA-256 of the archive it came from. */
export const EXTRACTED_MARKER = '.selfsup-sha256';

/**
 * The extracted folder of `archive`, fetching and extracting it first if needed, like
 * torchvision's `download=True`. Cache layout: `<cacheDir>/<name>/<file>` (the verified archive)
 * and `<cacheDir>/<name>/<folder>/` (its contents, holding `.selfsup-sha256`).
 *
 * - An extracted folder whose marker names the expected SHA-256 is used at once: no request.
 * - A folder without the marker was extracted by hand and is used as it is.
 * - Else the archive in the cache is verified (SHA-256) and extracted; without it, and with
 *   `download`, it is fetched to `<file>.partial` (resumed with an HTTP Range request where a
 *   partial is left and the server allows it, from zero where not; a transfer that breaks off is
 *   retried), verified, then renamed to `<file>`. A checksum mismatch deletes the partial and throws.
 * - Extraction goes to a temporary folder beside the target, renamed into place when complete, so
 *   a killed extraction never leaves a folder that is later trusted.
 * - Two processes (a sweep's workers) take turns with a lock file; the second finds the folder.
 *
 * Missing without `download`, or unreachable: a DataError naming the file, the folder to put it
 * in and the URL to fetch it from.
 */
export async function fetchArchive(spec: RemoteArchive, opts: FetchOptions = {}): Promise<string> {
  const dir = path.join(opts.cacheDir ? path.resolve(opts.cacheDir) : defaultCacheDir(), spec.name);
  const target = path.join(dir, spec.folder);
  const sha = (opts.sha256 ?? spec.sha256).toLowerCase();
  const ready = () => trusted(target, sha);
  if (ready()) return target;
  const archive = path.join(dir, spec.file);
  const url = opts.url ?? spec.url;
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const putItThere = `download it from ${url} and put it there, or set download: true`;
  if (!opts.download && !fs.existsSync(archive)) throw new DataError(`${spec.file} not found in ${dir}: ${putItThere}`);
  try {
    makeDirs(dir);
  } catch (e) {
    throw asEnvironmentError(e, 'create the dataset cache folder', dir);
  }
  const release = await lock(dir, log);
  try {
    if (ready()) return target; // another process finished it while we waited
    for (const f of fs.readdirSync(dir)) if (f.startsWith('.extract-')) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
    if (fs.existsSync(archive)) {
      const actual = await sha256File(archive);
      if (actual !== sha) {
        if (!opts.download)
          throw new DataError(
            `${archive} has SHA-256 ${actual}, expected ${sha}: a damaged or different file; delete it and download it again from ${url}, or set download: true`,
          );
        log(`${archive} has SHA-256 ${actual}, expected ${sha}: deleted, downloading it again`);
        fs.rmSync(archive, { force: true });
      }
    }
    if (!fs.existsSync(archive)) await downloadFile(url, archive, sha, { ...opts, log, size: spec.size, hint: `put ${spec.file} in ${dir}` });
    log(`extracting ${archive}`);
    const tmp = fs.mkdtempSync(path.join(dir, '.extract-'));
    try {
      await extractTar(archive, tmp);
      const extracted = path.join(tmp, spec.folder);
      if (!fs.existsSync(extracted) || !fs.statSync(extracted).isDirectory())
        throw new DataError(`${archive} holds no folder ${spec.folder}/ (not the expected archive: delete it${opts.url ? ' and check the url' : ''})`);
      fs.writeFileSync(path.join(extracted, EXTRACTED_MARKER), `${sha}\n`);
      fs.rmSync(target, { recursive: true, force: true });
      fs.renameSync(extracted, target);
    } catch (e) {
      throw asEnvironmentError(e, `extract ${archive}`, dir);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    return target;
  } finally {
    release();
  }
}

function trusted(target: string, sha: string): boolean {
  if (!fs.existsSync(target)) return false;
  const marker = path.join(target, EXTRACTED_MARKER);
  if (!fs.existsSync(marker)) return true; // extracted by hand
  return fs.readFileSync(marker, 'utf8').trim() === sha;
}

async function lock(dir: string, log: (m: string) => void): Promise<() => void> {
  for (let waited = 0; ; waited++) {
    try {
      return acquireLock(dir, '.download.lock', 'download');
    } catch (e) {
      if (!(e instanceof EnvironmentError)) throw e;
      if (waited === 0) log(`${e.message.replace(/; wait.*$/, '')}: waiting for it`);
      await sleep(1000);
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SHA-256 of a file, lower-case hex (streamed). */
export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A transfer that broke off after the server answered: worth resuming. */
class Interrupted extends Error {}

/**
 * Download `url` to `dest` through `<dest>.partial`, resuming a partial left by an earlier attempt
 * (HTTP Range; from zero where the server ignores it), retrying a transfer that breaks off, then
 * verifying its SHA-256 (a mismatch deletes the partial: DataError with both hashes and the URL)
 * and renaming it to `dest`.
 */
export async function downloadFile(url: string, dest: string, sha256: string, opts: FetchOptions & { size?: number; hint?: string } = {}): Promise<void> {
  const partial = `${dest}.partial`;
  const retries = opts.retries ?? 3;
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const hint = opts.hint ?? `put it at ${dest}`;
  for (let attempt = 0; ; attempt++) {
    try {
      await transfer(url, partial, opts);
      break;
    } catch (e) {
      const why = describe(e);
      if (!(e instanceof Interrupted) || attempt >= retries) {
        if (e instanceof DataError) throw e;
        const kept = fs.existsSync(partial) ? ` (${fs.statSync(partial).size.toLocaleString('en')} bytes kept in ${partial}: run again to resume)` : '';
        throw new DataError(`cannot download ${url}: ${why}${kept}. Offline? Download it yourself and ${hint}`);
      }
      const wait = (opts.retryDelayMs ?? 2000) * 2 ** attempt;
      log(
        `download of ${path.basename(dest)} broke off (${why}); resuming in ${(wait / 1000).toFixed(wait < 1000 ? 1 : 0)} s (attempt ${attempt + 2} of ${retries + 1})`,
      );
      await sleep(wait);
    }
  }
  const actual = await sha256File(partial);
  if (actual !== sha256.toLowerCase()) {
    fs.rmSync(partial, { force: true });
    throw new DataError(
      `the file downloaded from ${url} has SHA-256 ${actual}, expected ${sha256.toLowerCase()}: deleted (a damaged download, or the server sends another file; run again, or use another url)`,
    );
  }
  fs.renameSync(partial, dest);
}

function describe(e: unknown): string {
  const err = e as Error & { cause?: Error & { code?: string } };
  const cause = err?.cause;
  return cause?.message ? `${err.message}: ${cause.code ?? cause.message}` : (err?.message ?? String(e));
}

async function transfer(url: string, partial: string, opts: FetchOptions & { size?: number }): Promise<void> {
  const have = fs.existsSync(partial) ? fs.statSync(partial).size : 0;
  // identity: a server that gzips the body again would break both the checksum and the ranges
  const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'selfsup' };
  if (have > 0) headers.range = `bytes=${have}-`;
  const res = await fetch(url, { headers, redirect: 'follow' });
  if (res.status === 416 && have > 0) {
    await res.body?.cancel();
    return; // the partial is already whole: the checksum decides
  }
  if (res.status >= 500) {
    await res.body?.cancel();
    throw new Interrupted(`HTTP ${res.status} ${res.statusText}`);
  }
  if (res.status !== 200 && res.status !== 206) {
    await res.body?.cancel();
    throw new DataError(`cannot download ${url}: HTTP ${res.status} ${res.statusText}`);
  }
  let start = 0;
  let total = Number(res.headers.get('content-length') ?? NaN);
  if (res.status === 206) {
    const m = /^bytes (\d+)-\d+\/(\d+|\*)/.exec(res.headers.get('content-range') ?? '');
    if (!m || Number(m[1]) !== have) {
      await res.body?.cancel();
      fs.rmSync(partial, { force: true });
      throw new Interrupted(`the server answered the range request with another range (${res.headers.get('content-range')}); starting again`);
    }
    start = have;
    total = m[2] === '*' ? start + total : Number(m[2]);
  }
  if (!Number.isFinite(total)) total = opts.size ?? NaN;
  const progress = new Progress(opts.progress === undefined ? process.stderr : opts.progress, path.basename(partial, '.partial'), total, start);
  const fd = fs.openSync(partial, start > 0 ? 'a' : 'w');
  let got = start;
  try {
    if (!res.body) throw new Interrupted('empty response');
    try {
      for await (const chunk of res.body) {
        fs.writeSync(fd, chunk);
        got += chunk.length;
        progress.update(got);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code && /^E(NOSPC|DQUOT|ACCES|PERM|ROFS)$/.test((e as NodeJS.ErrnoException).code!))
        throw asEnvironmentError(e, 'write the download', partial);
      throw new Interrupted(`the connection closed at ${got.toLocaleString('en')} of ${Number.isFinite(total) ? total.toLocaleString('en') : '?'} bytes`, {
        cause: e,
      });
    }
    if (Number.isFinite(total) && got < total)
      throw new Interrupted(`the connection closed at ${got.toLocaleString('en')} of ${total.toLocaleString('en')} bytes`);
  } finally {
    fs.closeSync(fd);
    progress.done(got);
  }
}

/**
 * Download progress on stderr: `name: 12.3/170.1 MB (7.2%) 4.1 MB/s ETA 36s` (kB or GB for small or huge files); on a terminal one
 * line rewritten in place (5 times a second at most), elsewhere (logs, CI) a line every 10%.
 */
class Progress {
  private readonly tty: boolean;
  private readonly t0 = performance.now();
  private last = 0;
  private lastDecile = -1;
  constructor(
    private readonly out: NodeJS.WritableStream | false,
    private readonly name: string,
    private readonly total: number,
    private readonly start: number,
  ) {
    this.tty = out !== false && (out as NodeJS.WriteStream).isTTY === true;
    if (out) out.write(`downloading ${name}${start > 0 ? `, resuming at ${bytes(start)}` : ''}${Number.isFinite(total) ? ` (${bytes(total)})` : ''}\n`);
  }

  update(got: number): void {
    if (!this.out) return;
    const now = performance.now();
    if (this.tty) {
      if (now - this.last < 200) return;
      this.last = now;
      this.out.write(`\r${this.line(got, now)}\x1b[K`);
    } else if (Number.isFinite(this.total)) {
      const decile = Math.floor((10 * got) / this.total);
      if (decile > this.lastDecile && decile < 10) {
        this.lastDecile = decile;
        if (got > this.start) this.out.write(`${this.line(got, now)}\n`);
      }
    }
  }

  done(got: number): void {
    if (!this.out) return;
    this.out.write(`${this.tty ? '\r' : ''}${this.line(got, performance.now())}${this.tty ? '\x1b[K' : ''}\n`);
  }

  private line(got: number, now: number): string {
    const s = Math.max((now - this.t0) / 1000, 1e-3);
    const rate = (got - this.start) / s;
    const known = Number.isFinite(this.total) && this.total > 0;
    const pct = known ? ` (${((100 * got) / this.total).toFixed(1)}%)` : '';
    const left = known && rate > 0 && got < this.total ? ` ETA ${etaText((this.total - got) / rate)}` : '';
    const [div, unit] = scale(known ? this.total : got);
    return `${this.name}: ${(got / div).toFixed(unit === 'GB' ? 2 : 1)}${known ? `/${(this.total / div).toFixed(unit === 'GB' ? 2 : 1)}` : ''} ${unit}${pct} ${(rate / 1e6).toFixed(1)} MB/s${left}`;
  }
}

const scale = (b: number): [number, string] => (b >= 1e9 ? [1e9, 'GB'] : b >= 1e6 ? [1e6, 'MB'] : [1e3, 'kB']);
const bytes = (b: number) => {
  const [div, unit] = scale(b);
  return `${(b / div).toFixed(unit === 'GB' ? 2 : 1)} ${unit}`;
};
