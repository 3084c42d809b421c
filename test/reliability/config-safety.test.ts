import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinPresets, createRegistry, resolveExperiment } from '../../cli/api.js';
import { planSweep } from '../../cli/sweep-api.js';

describe('config safety: nothing reaches Object.prototype, and --set does not pretend', () => {
  it('--set with __proto__, constructor or prototype is refused, and Object.prototype is untouched', async () => {
    for (const key of ['__proto__.polluted', 'head.constructor.prototype.polluted', 'loss.prototype']) {
      await expect(resolveExperiment('simclr', { sets: [`${key}=1`] })).rejects.toThrow(/is not allowed in a config path/);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a "__proto__" key in a config file is an error at its JSON path, not silently dropped', async () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-safety-')), 'c.json');
    fs.writeFileSync(f, '{ "extends": "simclr", "head": { "__proto__": { "outDim": 3 } } }');
    await expect(resolveExperiment(f)).rejects.toThrow(/\/head\/__proto__: '__proto__' is not allowed as a key/);
    expect(({} as Record<string, unknown>).outDim).toBeUndefined();
  });

  it('sweep set and grid keys go through the same guard', async () => {
    const spec = { extends: 'simclr', grid: { '__proto__.polluted': [1, 2] } };
    await expect(planSweep(spec, { registry: createRegistry(), presets: builtinPresets() })).rejects.toThrow(/is not allowed in a config path/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('--set extends=... and --set plugins=... are refused with the way to do it', async () => {
    await expect(resolveExperiment('simclr', { sets: ['extends=moco-v2'] })).rejects.toThrow(
      /--set cannot change 'extends'.*\(write a config file with "extends"/s,
    );
    await expect(resolveExperiment('simclr', { sets: ['plugins=["./x.mjs"]'] })).rejects.toThrow(/--set cannot change 'plugins'.*--plugin MODULE/s);
  });
});
