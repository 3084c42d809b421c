import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const PROBE = path.resolve('test/fixtures/wasm-threads-probe.mjs');
const probe = (threads: number) => {
  const r = spawnSync(process.execPath, [PROBE], { encoding: 'utf8', env: { ...process.env, SELFSUP_WASM_THREADS: String(threads) }, timeout: 60_000 });
  // a process left running by idle pthreads is killed at the timeout: status null
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { details: string; y: number[]; bn: number[]; gx: number[]; gf: number[] };
};
const maxRel = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]) / (Math.abs(b[i]) + 1e-3)));

describe('wasm threads under Node', () => {
  it("the threaded-SIMD build and selfsup's SIMD kernels start with the threads asked for and compute what the single-threaded ones do", () => {
    const one = probe(1);
    const two = probe(2);
    expect(one.details).toMatch(/^SIMD on, 1 thread, selfsup SIMD kernels on 1 thread$/);
    expect(two.details).toMatch(/^SIMD on, 2 threads, selfsup SIMD kernels on 2 threads$/);
    expect(maxRel(two.y, one.y)).toBeLessThan(1e-5);
    expect(maxRel(two.bn, one.bn)).toBeLessThan(1e-5);
    expect(maxRel(two.gx, one.gx)).toBeLessThan(1e-5);
    expect(maxRel(two.gf, one.gf)).toBeLessThan(1e-5);
    expect(one.gf.some((v) => Math.abs(v) > 1e-3)).toBe(true);
  });

  it("an allocation past wasm memory's 4 GiB throws an error that says what to change, and the backend keeps working", () => {
    const r = spawnSync(process.execPath, [path.resolve('test/fixtures/wasm-oom-probe.mjs')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { error: string; after: number[] };
    expect(out.error).toMatch(/^wasm memory exhausted: 1\.95 GiB more were asked for .*Lower train\.batchSize/);
    expect(out.after).toEqual([4, 6]);
  });
});
