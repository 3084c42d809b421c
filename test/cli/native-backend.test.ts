import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../../core/engine/index.js';
import { metricRecords } from '../helpers.js';

// The native backend as users meet it: the built CLI, `auto` with the addon present and hidden.
const BIN = path.resolve('dist/cli/main.js');
const train = (env: Record<string, string>, ...sets: string[]) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-native-'));
  const args = ['train', '--preset', 'simclr', '--out', out];
  for (const s of [...TINY, ...sets]) args.push('--set', s);
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } });
  return { code: r.status, log: r.stdout + r.stderr, out };
};
const TINY = ['data.trainLimit=256', 'data.testLimit=100', 'train.batchSize=64', 'encoder.widths=[8,16]', 'eval.final=[]'];

const load = loadNativeAddon();
const required = process.env.SELFSUP_REQUIRE_NATIVE === '1';
if (!load.ok && !required) console.warn(`native backend CLI tests skipped: ${load.reason}`);
const nativeIt = load.ok || required ? it : it.skip;

describe('the native backend from the CLI', () => {
  it('with the addon hidden, auto trains on wasm and says why native was skipped', () => {
    const r = train({ SELFSUP_NATIVE_ADDON: '/nonexistent/selfsup_native.node' }, 'train.epochs=1', 'backend=auto');
    expect(r.code, r.log).toBe(0);
    expect(r.log).toMatch(/backend: wasm \(/);
    expect(r.log).toContain('skipped native: addon not found at /nonexistent/selfsup_native.node');
    expect(metricRecords(r.out)).toHaveLength(1);
  });

  nativeIt('auto takes native where the addon loads, and reports oneDNN, the ISA and the threads', () => {
    const r = train({ SELFSUP_THREADS: '2' }, 'train.epochs=1', 'backend=auto');
    expect(r.code, r.log).toBe(0);
    expect(r.log).toMatch(/backend: native \(oneDNN 2\.\d+\.\d+ on \w+, 2 threads/);
  });

  // 4 steps an epoch; the cpu backend takes about 20 s an epoch here, so it runs one
  nativeIt('a fixed seed trains to the same epoch losses on native as on wasm (3 epochs) and cpu (1), within 1e-3', { timeout: 240_000 }, () => {
    const losses = (backend: string, epochs: number) => {
      const r = train({}, `train.epochs=${epochs}`, `backend=${backend}`);
      expect(r.code, r.log).toBe(0);
      return metricRecords(r.out).map((m) => m.loss as number);
    };
    const native = losses('native', 3);
    const wasm = losses('wasm', 3);
    const cpu = losses('cpu', 1);
    expect(native).toHaveLength(3);
    // training moved: the curve is not flat (a kernel that returned zeros would keep it at log(2N-1))
    expect(Math.abs(native[2] - native[0])).toBeGreaterThan(0.01);
    for (let e = 0; e < 3; e++) expect(Math.abs(native[e] - wasm[e]) / wasm[e], `epoch ${e + 1}: native ${native[e]} wasm ${wasm[e]}`).toBeLessThan(1e-3);
    expect(Math.abs(native[0] - cpu[0]) / cpu[0], `epoch 1: native ${native[0]} cpu ${cpu[0]}`).toBeLessThan(1e-3);
  });
});
