import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

/** Import one built entry point in a fresh Node process; report its exports and which native-addon packages got loaded. */
function probe(entry: string): { exports: string[]; loaded: string[] } {
  const script = `
    import { createRequire } from 'node:module';
    const m = await import(${JSON.stringify(path.join(root, 'dist', entry))});
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => /node_modules\\/(better-sqlite3|sharp)\\//.test(k));
    console.log(JSON.stringify({ exports: Object.keys(m), loaded }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

describe('entry points (built dist/)', () => {
  it('`selfsup` (what a plugin imports) loads neither better-sqlite3 nor sharp, and keeps sweep and engine internals out', () => {
    const { exports, loaded } = probe('index.js');
    expect(loaded).toEqual([]);
    expect(exports).toEqual(expect.arrayContaining(['definePlugin', 'Type', 'tf', 'readOutputs', 'runExperiment', 'registerBuiltins']));
    for (const internal of ['SweepStore', 'runSweep', 'registerSimdKernels', 'guardWasmMalloc']) expect(exports).not.toContain(internal);
  });

  it('`selfsup/sweep` has the store and the runner; `selfsup/engine` the kernels', () => {
    const sweep = probe('sweep.js');
    expect(sweep.exports).toEqual(expect.arrayContaining(['SweepStore', 'runSweep', 'planSweep', 'writeReport']));
    expect(sweep.loaded.some((k) => k.includes('better-sqlite3'))).toBe(true);
    expect(probe('engine.js').exports).toEqual(expect.arrayContaining(['registerSimdKernels', 'guardWasmMalloc', 'KERNELS_SOURCE_SHA256']));
  });
});
