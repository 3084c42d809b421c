import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// `selfsup new plugin` as a user meets it: a project directory with selfsup and vitest installed
// (symlinks to this checkout and its vitest), the built CLI writing into it.
const BIN = path.resolve('dist/cli/main.js');
const VITEST = path.resolve('node_modules/vitest/vitest.mjs');
const KINDS = ['augmenter', 'encoder', 'head', 'loss'];

function project(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-scaffold-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(path.resolve('.'), path.join(dir, 'node_modules', 'selfsup'));
  fs.symlinkSync(path.resolve('node_modules/vitest'), path.join(dir, 'node_modules', 'vitest'));
  return dir;
}
const run = (cwd: string, args: string[], timeout = 300_000) => {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, SELFSUP_THREADS: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('selfsup new plugin', () => {
  it('writes a plugin, its contract test and a config for each kind: the tests pass as written, the configs validate and train 2 steps', () => {
    const dir = project();
    for (const kind of KINDS) {
      const r = run(dir, [BIN, 'new', 'plugin', kind, `my-${kind}`, '--dir', 'plugins']);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain(`wrote a ${kind} plugin 'my-${kind}'`);
      for (const f of [`my-${kind}.mjs`, `my-${kind}.test.mjs`, `my-${kind}.config.json`]) expect(fs.existsSync(path.join(dir, 'plugins', f))).toBe(true);
      const source = fs.readFileSync(path.join(dir, 'plugins', `my-${kind}.mjs`), 'utf8');
      expect(source).toContain(`kind: '${kind}'`);
      expect(source).toContain(`name: 'my-${kind}'`);
      expect(source).toMatch(/options: Type\.Object\(/);
      expect(source).toMatch(/\/\*\*[\s\S]*@example/);
    }
    // the generated tests, run by vitest in the project: 2 per kind
    const t = run(dir, [VITEST, 'run', '--reporter', 'json', '--outputFile', 'vitest.json']);
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'vitest.json'), 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
      testResults: unknown[];
    };
    expect(t.code, t.out + t.err).toBe(0);
    expect(report.testResults).toHaveLength(KINDS.length);
    expect(report.numPassedTests).toBe(2 * KINDS.length);
    expect(report.numFailedTests).toBe(0);
    for (const kind of KINDS) {
      const config = path.join('plugins', `my-${kind}.config.json`);
      const v = run(dir, [BIN, 'validate', config, '--load-plugins', '--json']);
      expect(v.code, v.err).toBe(0);
      const c = JSON.parse(v.out).config;
      const task = c.tasks.main;
      const slot = { augmenter: task.augmenter.pipeline.at(-1), encoder: c.encoder, head: task.head, loss: task.loss }[kind];
      expect(slot?.type).toBe(`my-${kind}`);
      const out = path.join(dir, 'runs', kind);
      const sets = ['train.maxSteps=2', 'data.trainLimit=128', 'data.testLimit=64', 'train.batchSize=64', 'eval.final=[]'];
      const tr = run(dir, [BIN, 'train', config, '--out', out, '--json', ...sets.flatMap((s) => ['--set', s])]);
      expect(tr.code, tr.err).toBe(0);
      const result = JSON.parse(tr.out.trim().split('\n').pop()!);
      expect(result.steps).toBe(2);
      expect(Number.isFinite(result.loss)).toBe(true);
    }
  }, 600_000);

  it('never overwrites: an existing file of the three stops it before anything is written; an unknown kind lists the templates', () => {
    const dir = project();
    fs.writeFileSync(path.join(dir, 'mine.test.mjs'), 'my own test');
    const r = run(dir, [BIN, 'new', 'plugin', 'loss', 'mine']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('mine.test.mjs exists: nothing was written');
    expect(fs.existsSync(path.join(dir, 'mine.mjs'))).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'mine.test.mjs'), 'utf8')).toBe('my own test');
    const k = run(dir, [BIN, 'new', 'plugin', 'optimiser', 'x']);
    expect(k.code).toBe(2);
    expect(k.err).toContain("no plugin template for kind 'optimiser': templates exist for augmenter, encoder, head, loss");
    const n = run(dir, [BIN, 'new', 'plugin', 'loss', 'My_Loss']);
    expect(n.code).toBe(2);
    expect(n.err).toContain("plugin name 'My_Loss' must be kebab-case");
  });
});
