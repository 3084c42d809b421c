import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The benchmark scripts as built (npm test builds first): their flags are answered with a usage line.
const bench = (name: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [path.resolve('dist/bench', `${name}.js`), ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('bench scripts: flags', () => {
  it('--help prints the usage line made from the flags and their defaults, and exits 0 before any work', () => {
    const r = bench('vit-methods', '--help');
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(
      'usage: node dist/bench/vit-methods.js [--budget 1800] [--per-class 300] [--runs dino,mae,simclr-vit,simclr-cnn] [--finetune-epochs 10] [--set SET]... [--out OUT] [--json]',
    );
    expect(r.err).not.toMatch(/extracting/); // nothing ran: no CIFAR extraction
  });

  it('an unknown flag or a flag without its value is a sentence and the usage line (exit 2), never a stack trace', () => {
    for (const args of [['--budgett', '10'], ['--budget']]) {
      const r = bench('vit-methods', ...args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(args[0] === '--budget' ? /--budget <value>' argument missing/ : /Unknown option '--budgett'/);
      expect(r.err).toMatch(/^usage: node dist\/bench\/vit-methods\.js \[--budget 1800\]/m);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    // a value the bench checks itself: the same, a sentence and exit 2, before any work
    for (const [args, said] of [
      [['--set', 'dinoo:optimizer.lr=1'], /--set 'dinoo:optimizer.lr=1': expected RUN:KEY=VALUE with RUN one of dino, mae, simclr-vit, simclr-cnn/],
      [['--runs', 'dino,byol'], /unknown run 'byol' \(runs: dino, mae, simclr-vit, simclr-cnn\)/],
    ] as const) {
      const r = bench('vit-methods', ...args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(said);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    // memory-soak's case names (it threw with a stack trace before)
    const soak = bench('memory-soak', '--case', 'simclr-tiny');
    expect(soak.code).toBe(2);
    expect(soak.err).toMatch(/^unknown case 'simclr-tiny' \(cases: simclr-smallcnn, /m);
    expect(soak.err).not.toMatch(/\n\s+at /);
  });

  it('every bench script takes --help', () => {
    const names = fs
      .readdirSync('bench')
      .filter((f) => f.endsWith('.ts') && f !== 'common.ts')
      .map((f) => f.slice(0, -3));
    expect(names.length).toBeGreaterThanOrEqual(13);
    for (const name of names) {
      const r = bench(name, '--help');
      expect({ name, code: r.code, usage: r.out.startsWith(`usage: node dist/bench/${name}.js`) }).toEqual({ name, code: 0, usage: true });
    }
  });
});
