import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = path.resolve('dist/cli/main.js');
const selfsup = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('the CLI accepts a config both ways in train and validate', () => {
  it('validate FILE and validate --preset FILE resolve the same config; two different ones are refused', () => {
    const a = selfsup('validate', 'byol', '--json');
    const b = selfsup('validate', '--preset', 'byol', '--json');
    expect(a.code, a.err).toBe(0);
    expect(b.out).toBe(a.out);
    expect(JSON.parse(a.out).config.tasks.main.loss.type).toBe('normalized-mse');
    const both = selfsup('validate', 'byol', '--preset', 'simclr');
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/two configs given: 'byol' and --preset 'simclr'; give one/);
    expect(selfsup('validate').err).toMatch(/validate needs a config file or preset/);
  });

  it('train NAME is train --preset NAME (a config error shows the name either way)', () => {
    const a = selfsup('train', 'byl');
    const b = selfsup('train', '--preset', 'byl');
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/no preset or file named 'byl' \(did you mean 'byol'\?/);
    expect(b.err).toBe(a.err);
  });
});
