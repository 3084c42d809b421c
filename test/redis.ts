import fs from 'node:fs';
import { it } from 'vitest';
import { REDIS_SERVER, ping, type TestRedis } from './redis-server.js';

export { REDIS_SERVER, TestRedis, freePort } from './redis-server.js';

/**
 * Redis for the queue tests: Debian's redis-server (apt-get install redis-server). The tests start
 * their own servers on free loopback ports (so one can be stopped and started mid-sweep); where
 * redis-server is missing they are skipped with the reason printed, unless SELFSUP_REQUIRE_REDIS=1
 * (.ci/run sets it after installing redis-server): then they fail. `it` where redis-server is there
 * or required, else `it.skip` with `what` printed as skipped.
 */
export function redisTest(what: string): typeof it | typeof it.skip {
  if (fs.existsSync(REDIS_SERVER) || process.env.SELFSUP_REQUIRE_REDIS === '1') return it;
  if (what) console.warn(`${what} skipped: redis-server not found (apt-get install redis-server)`);
  return it.skip;
}

/** A Redis the tests use without stopping it: a database number each. */
export interface RedisEndpoint {
  port: number;
  url(db?: number): string;
}

/**
 * The Redis that .ci/run starts (SELFSUP_REDIS_URL, redis://127.0.0.1:PORT), where it is set and
 * answers; otherwise a server of the test's own.
 */
export async function sharedRedis(start: () => Promise<TestRedis>): Promise<RedisEndpoint> {
  const env = process.env.SELFSUP_REDIS_URL;
  if (env) {
    const u = new URL(env);
    const port = Number(u.port || 6379);
    if (await ping(port, u.hostname)) return { port, url: (db = 0) => `redis://${u.hostname}:${port}/${db}` };
    if (process.env.SELFSUP_REQUIRE_REDIS === '1') throw new Error(`SELFSUP_REDIS_URL=${env} does not answer PING`);
  }
  return start();
}
