import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

/** Debian's redis-server (apt-get install redis-server); REDIS_SERVER_PATH overrides. */
export const REDIS_SERVER =
  process.env.REDIS_SERVER_PATH ?? ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => fs.existsSync(p)) ?? '/usr/bin/redis-server';

/** A free TCP port on `host`. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether something answers PING at host:port (with `password`; over TLS, any certificate). */
export function ping(port: number, host = '127.0.0.1', password?: string, overTls = false): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = overTls ? tls.connect({ port, host, rejectUnauthorized: false }) : net.connect(port, host);
    let buf = '';
    sock.setTimeout(1000, () => (sock.destroy(), resolve(false)));
    sock.on('error', () => resolve(false));
    sock.on(overTls ? 'secureConnect' : 'connect', () => sock.write(`${password ? `AUTH ${password}\r\n` : ''}PING\r\n`));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('+PONG')) {
        sock.destroy();
        resolve(true);
      } else if (buf.includes('-')) {
        sock.destroy();
        resolve(false);
      }
    });
  });
}

/** A redis-server of a test's or a benchmark's own: no persistence (as CI's), stoppable and restartable on the same port. */
export class TestRedis {
  private proc?: ChildProcess;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-redis-'));

  /** with TLS: the certificate authority that signed the server's certificate (for NODE_EXTRA_CA_CERTS) */
  readonly caFile?: string;

  private constructor(
    readonly port: number,
    readonly bind: string,
    readonly password?: string,
    readonly tls = false,
  ) {
    if (tls) this.caFile = makeCertificates(this.dir);
  }

  /** `tls`: TLS only (rediss://), with a certificate for 127.0.0.1 and localhost signed by a CA of its own */
  static async start(opts: { bind?: string; password?: string; tls?: boolean } = {}): Promise<TestRedis> {
    const r = new TestRedis(await freePort(), opts.bind ?? '127.0.0.1', opts.password, opts.tls);
    await r.start();
    return r;
  }

  /** redis[s]://[:password@]127.0.0.1:port/db */
  url(db = 0, host = '127.0.0.1'): string {
    return `${this.tls ? 'rediss' : 'redis'}://${this.password ? `:${encodeURIComponent(this.password)}@` : ''}${host}:${this.port}/${db}`;
  }

  async start(): Promise<void> {
    const args = ['--bind', this.bind, '--save', '', '--appendonly', 'no', '--dir', this.dir, '--protected-mode', 'no'];
    if (this.tls) {
      const f = (name: string) => path.join(this.dir, name);
      args.push('--port', '0', '--tls-port', String(this.port), '--tls-cert-file', f('server.crt'), '--tls-key-file', f('server.key'));
      args.push('--tls-ca-cert-file', f('ca.crt'), '--tls-auth-clients', 'no');
    } else args.push('--port', String(this.port));
    if (this.password) args.push('--requirepass', this.password);
    this.proc = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await ping(this.port, this.bind === '0.0.0.0' ? '127.0.0.1' : this.bind, this.password, this.tls)) return;
      await sleep(50);
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** Stop the server at once (its data, all in memory, is gone). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
}

/** A CA and a server certificate for 127.0.0.1 and localhost signed by it, in `dir` (openssl); returns the CA's file. */
function makeCertificates(dir: string): string {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=selfsup test CA');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf');
  return path.join(dir, 'ca.crt');
}
