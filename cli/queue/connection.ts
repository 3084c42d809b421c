import { isIP } from 'node:net';
import type { RedisOptions } from 'bullmq';
import { SelfsupError } from '../../core/index.js';

/** The BullMQ queue every selfsup coordinator and worker on one Redis database shares (one database, one pool of workers). */
export const QUEUE_NAME = 'selfsup-trials';

/** A parsed `--queue` URL: the connection, and the URL as it may be printed (no password). */
export interface QueueTarget {
  /** `redis://host:port/db` (the user name kept, the password never) */
  redacted: string;
  connection: RedisOptions;
  /** the password, kept only to scrub it from messages that might echo it */
  secret?: string;
}

/**
 * Parse `redis://[user:password@]host[:port][/db]` or `rediss://…` (TLS; a server certificate from a
 * private CA is trusted with NODE_EXTRA_CA_CERTS=ca.pem). The password may instead come from
 * `SELFSUP_REDIS_PASSWORD`, which keeps it out of the process list and shell history.
 * Reconnection is with backoff (0.5 s doubling to 10 s), for ever: a sweep waits out an outage.
 */
export function parseQueueUrl(url: string, env: NodeJS.ProcessEnv = process.env): QueueTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SelfsupError(`--queue must be a Redis URL such as redis://127.0.0.1:6379/0 or rediss://user@host:6380/1 (got '${redact(url)}')`, 2);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new SelfsupError(`--queue must be a redis:// or rediss:// URL (got '${u.protocol}//…')`, 2);
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0)
    throw new SelfsupError(`the Redis database in --queue must be a number, as in redis://host:6379/2 (got '${u.pathname}')`, 2);
  const port = u.port ? Number(u.port) : 6379;
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : env.SELFSUP_REDIS_PASSWORD || undefined;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const redacted = `${u.protocol}//${username ? `${encodeURIComponent(username)}@` : ''}${u.host}/${db}`;
  return {
    redacted,
    secret: password,
    connection: {
      host,
      port,
      db,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      // an IP address is checked against the certificate's IP names (SNI takes host names only)
      ...(u.protocol === 'rediss:' ? { tls: isIP(host) ? {} : { servername: host } } : {}),
      // BullMQ's blocking commands need this; a command waits out a reconnection instead of failing
      maxRetriesPerRequest: null,
      retryStrategy: (times: number) => Math.min(500 * 2 ** Math.min(times - 1, 5), 10_000),
    },
  };
}

/** `url` with any password replaced by `***`. */
export function redact(url: string): string {
  // user:password@ wherever it is (also in a string that is not a valid URL)
  return url.replace(/([^\s/@:]*):([^\s/@]*)@/, '$1:***@');
}

/**
 * Turns a connection's errors into one sentence per outage naming the URL ("Redis at … is
 * unreachable (ECONNREFUSED); reconnecting with backoff") and one when it is back. `ok()` is called
 * after any command that succeeded.
 */
export class ConnectionWatch {
  private downSince?: number;

  constructor(
    private readonly target: QueueTarget,
    private readonly say: (line: string) => void,
    private readonly what: string,
  ) {}

  get down(): boolean {
    return this.downSince !== undefined;
  }

  readonly failed = (e: unknown): void => {
    if (this.downSince !== undefined) return;
    this.downSince = performance.now();
    this.say(`Redis at ${this.target.redacted} is unreachable (${this.reason(e)}); the ${this.what} reconnects with backoff and waits`);
  };

  readonly ok = (): void => {
    if (this.downSince === undefined) return;
    const s = (performance.now() - this.downSince) / 1000;
    this.downSince = undefined;
    this.say(`Redis at ${this.target.redacted} is reachable again (after ${s.toFixed(1)} s)`);
  };

  /** The error's code or first line, with the password scrubbed. */
  reason(e: unknown): string {
    const err = e as NodeJS.ErrnoException;
    const text = err?.code ?? String(err?.message ?? e).split('\n')[0];
    return this.target.secret ? text.split(this.target.secret).join('***') : text;
  }
}
