import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveExperiment } from '../../cli/api.js';

// Every shipped preset, as a user on a fresh checkout runs it: by name, with no data flag. It
// validates, and it trains 2 steps with its own data, encoder, augmentations and heads; to keep the
// suite short the batch is 8, the test split 64 images, and the final evaluation is skipped.
const BIN = path.resolve('dist/cli/main.js');
const PRESETS = fs
  .readdirSync(path.resolve('presets'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();
const selfsup = (args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const SETS = ['train.maxSteps=2', 'train.batchSize=8', 'data.testLimit=64', 'eval.final=[]', 'eval.baseline=false'];

describe('every shipped preset', () => {
  it('there are presets to run, colorization among them', () => {
    expect(PRESETS.length).toBeGreaterThanOrEqual(17);
    expect(PRESETS).toContain('colorization');
  });

  it.each(PRESETS)(
    '%s validates and trains 2 steps with no flags but the run length',
    async (preset) => {
      // what `selfsup validate NAME` runs, in-process (a process per preset costs ~1.5 s)
      const v = await resolveExperiment(preset, { loadPlugins: false });
      expect(v.config.name).toBe(preset);
      expect(v.unchecked).toEqual([]);
      const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-preset-')), preset);
      const t = selfsup(['train', preset, '--out', out, '--json', ...SETS.flatMap((s) => ['--set', s])]);
      expect(t.code, t.err).toBe(0);
      const result = JSON.parse(t.out.trim().split('\n').pop()!) as { preset: string; steps: number; loss: number };
      expect(result.preset).toBe(preset);
      expect(result.steps).toBe(2);
      expect(Number.isFinite(result.loss)).toBe(true);
      expect(fs.existsSync(path.join(out, 'checkpoint.json'))).toBe(true);
      fs.rmSync(path.dirname(out), { recursive: true, force: true });
    },
    300_000,
  );
});
