import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
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

describe('validate runs no plugin code unless --load-plugins', () => {
  it('a module named by the config is listed, not imported; its slots are unchecked; --load-plugins imports it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-validate-'));
    const marker = path.join(dir, 'imported');
    fs.writeFileSync(
      path.join(dir, 'evil.mjs'),
      `import fs from 'node:fs';\nfs.writeFileSync(${JSON.stringify(marker)}, 'ran');\nexport default { kind: 'loss', name: 'evil', description: 'x', options: { type: 'object', properties: {} }, create: () => ({}) };\n`,
    );
    const cfg = path.join(dir, 'c.json');
    fs.writeFileSync(cfg, JSON.stringify({ extends: 'simclr', plugins: ['./evil.mjs'], loss: { type: 'evil', anything: 1 } }));
    const r = selfsup('validate', cfg);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/plugin modules not loaded \(--load-plugins imports them and checks their options\): .*evil\.mjs/);
    expect(r.out).toMatch(/unchecked: loss 'evil'/);
    expect(fs.existsSync(marker)).toBe(false);
    const loaded = selfsup('validate', cfg, '--load-plugins');
    expect(fs.existsSync(marker)).toBe(true);
    expect(loaded.code).toBe(2); // now checked: 'anything' is not an option of evil
    expect(loaded.err).toMatch(/\/loss\/anything: unknown key 'anything'/);
    // without any named module, an unknown type is still an error
    fs.writeFileSync(cfg, JSON.stringify({ extends: 'simclr', loss: { type: 'evil' } }));
    expect(selfsup('validate', cfg).err).toMatch(/unknown loss 'evil'/);
  });
});
