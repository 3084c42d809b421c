import { describe, expect, it } from 'vitest';
import { ConnectionWatch, parseQueueUrl, redact } from '../../cli/queue/connection.js';

describe('queue URLs', () => {
  it('redis:// and rediss:// with user, password and database; printed without the password', () => {
    const a = parseQueueUrl('redis://:pa%40ss@10.0.0.5:6380/2', {});
    expect(a.connection).toMatchObject({ host: '10.0.0.5', port: 6380, db: 2, password: 'pa@ss', maxRetriesPerRequest: null });
    expect(a.connection.tls).toBeUndefined();
    expect(a.redacted).toBe('redis://10.0.0.5:6380/2');
    const b = parseQueueUrl('rediss://ops:secret@redis.example/1', {});
    expect(b.connection).toMatchObject({ host: 'redis.example', port: 6379, db: 1, username: 'ops', password: 'secret', tls: { servername: 'redis.example' } });
    expect(b.redacted).toBe('rediss://ops@redis.example/1');
    // defaults: port 6379, database 0; the password from the environment when the URL has none
    const c = parseQueueUrl('redis://localhost', { SELFSUP_REDIS_PASSWORD: 'from-env' });
    expect(c.connection).toMatchObject({ host: 'localhost', port: 6379, db: 0, password: 'from-env' });
    expect(c.redacted).toBe('redis://localhost/0');
    expect(parseQueueUrl('redis://[::1]:7000/3', {}).connection).toMatchObject({ host: '::1', port: 7000, db: 3 });
  });

  it('reconnects with backoff: 0.5 s doubling to 10 s', () => {
    const retry = parseQueueUrl('redis://h', {}).connection.retryStrategy!;
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((n) => retry(n))).toEqual([500, 1000, 2000, 4000, 8000, 10000, 10000, 10000]);
  });

  it('a bad URL is a sentence (exit 2) that never echoes a password', () => {
    expect(() => parseQueueUrl('http://h:6379', {})).toThrow(/--queue must be a redis:\/\/ or rediss:\/\/ URL \(got 'http:\/\/…'\)/);
    expect(() => parseQueueUrl('redis://h:6379/x', {})).toThrow(/the Redis database in --queue must be a number/);
    let err: Error | undefined;
    try {
      parseQueueUrl('redis//user:hunter2@h', {});
    } catch (e) {
      err = e as Error;
    }
    expect((err as { exitCode?: number }).exitCode).toBe(2);
    expect(err!.message).not.toContain('hunter2');
    expect(redact('redis://user:hunter2@h:1/0')).toBe('redis://user:***@h:1/0');
    expect(redact('redis://:hunter2@h:1/0')).toBe('redis://:***@h:1/0');
    expect(redact('redis://h:1/0')).toBe('redis://h:1/0');
  });

  it('an outage is one sentence naming the URL, and one when Redis is back; the password is scrubbed from reasons', () => {
    const lines: string[] = [];
    const w = new ConnectionWatch(parseQueueUrl('redis://:s3cr3t@db.local:6379/0', {}), (l) => lines.push(l), 'worker');
    w.failed(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    w.failed(new Error('again'));
    expect(w.down).toBe(true);
    w.ok();
    w.ok();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('Redis at redis://db.local:6379/0 is unreachable (ECONNREFUSED); the worker reconnects with backoff and waits');
    expect(lines[1]).toMatch(/^Redis at redis:\/\/db\.local:6379\/0 is reachable again \(after \d+\.\d s\)$/);
    expect(w.reason(new Error('WRONGPASS s3cr3t rejected\nmore'))).toBe('WRONGPASS *** rejected');
  });
});
