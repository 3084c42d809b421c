import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, PluginError, createRegistry, loadExternalPlugins, resolveExperiment, runExperiment } from '../../cli/api.js';
import { SweepStore } from '../../cli/sweep-api.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-inputs-'));

describe('inputs a user gets wrong: a sentence each', () => {
  it('a plugin module that throws on import keeps its file and line', async () => {
    const dir = tmp();
    const mod = path.join(dir, 'bad-plugin.mjs');
    fs.writeFileSync(mod, "const x = 1;\nthrow new Error('setup failed');\n");
    const err = await loadExternalPlugins(createRegistry(), [mod]).catch((e) => e);
    expect(err).toBeInstanceOf(PluginError);
    expect(err.message).toMatch(new RegExp(`plugin module .*bad-plugin\\.mjs threw on import: setup failed \\(at .*bad-plugin\\.mjs:2:7\\)`));
    expect(String(err.cause?.stack)).toMatch(/bad-plugin\.mjs:2/);
  });

  it('a plugin named by package name resolves from the config folder (the user project), and a missing one says how to install it', async () => {
    const project = tmp();
    const pkg = path.join(project, 'node_modules', 'selfsup-erasing');
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'selfsup-erasing', type: 'module', main: 'index.js' }));
    const api = JSON.stringify(path.resolve('cli/api.ts')).slice(1, -1);
    fs.writeFileSync(
      path.join(pkg, 'index.js'),
      `export default { kind: 'augmenter', name: 'erasing', description: 'test', options: { type: 'object', properties: {} }, create: () => ({ apply: (x) => ({ views: [x] }) }) };\n// ${api}\n`,
    );
    const cfg = path.join(project, 'c.json');
    fs.writeFileSync(cfg, JSON.stringify({ extends: 'simclr', plugins: ['selfsup-erasing'] }));
    const { registry } = await resolveExperiment(cfg);
    expect(registry.has('augmenter', 'erasing')).toBe(true);
    const missing = path.join(project, 'm.json');
    fs.writeFileSync(missing, JSON.stringify({ extends: 'simclr', plugins: ['selfsup-nothing'] }));
    await expect(resolveExperiment(missing)).rejects.toThrow(
      /plugin package 'selfsup-nothing' is not installed where .* can see it \(npm install selfsup-nothing/,
    );
  });

  it('config files: a directory, a byte-order mark, comments and a syntax error with its line and column', async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'a.json'), '{}');
    await expect(resolveExperiment(dir)).rejects.toThrow(/is a directory, not a config file \(name one of its files: a\.json\)/);
    const bom = path.join(dir, 'bom.json');
    fs.writeFileSync(bom, '\ufeff{ "extends": "simclr" }');
    await expect(resolveExperiment(bom)).resolves.toBeDefined();
    const commented = path.join(dir, 'commented.json');
    fs.writeFileSync(commented, '{\n  // my settings\n  "extends": "simclr"\n}');
    const err = await resolveExperiment(commented).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/not valid JSON at line 2, column 3: .*\(JSON has no comments: remove the \/\/ and \/\* \*\/ lines/);
  });

  it('an empty class folder is refused, as torchvision refuses it', async () => {
    const root = tmp();
    for (const c of ['cat', 'dog']) fs.mkdirSync(path.join(root, 'train', c), { recursive: true });
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 10, g: 20, b: 30 } } })
      .png()
      .toBuffer();
    fs.writeFileSync(path.join(root, 'train', 'cat', 'a.png'), png);
    const err = await runExperiment('simclr', { sets: [`data={"type":"image-folder","root":${JSON.stringify(root)},"size":8}`, 'train.batchSize=2'] }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toMatch(/class folder .*dog holds no image \(\.jpg, \.jpeg, \.png\): remove it/);
  });

  it('a damaged sweep.db names the file and says to move it aside', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'sweep.db'), 'this is not a database, just text that is long enough to be read as a header..........');
    let err: unknown;
    try {
      new SweepStore(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataError);
    expect(String(err)).toMatch(/sweep\.db is not a readable sweep store .*move it aside \(mv .*sweep\.db .*sweep\.db\.bad\)/);
  });
});
