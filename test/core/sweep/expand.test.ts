import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../cli/api.js';
import { axesLabel, canonicalJson, configHash, expandTrials, loadSweepSpec } from '../../../cli/sweep-api.js';

const spec = (s: Record<string, unknown>) => loadSweepSpec({ extends: 'simclr', ...s }).spec;

describe('sweep expansion', () => {
  it('grid x seeds: the cartesian product, seeds outermost, grid keys in spec order', () => {
    const t = expandTrials(spec({ grid: { 'head.type': ['identity', 'linear', 'mlp'], 'loss.temperature': [0.1, 0.5] }, seeds: [0, 1] }));
    expect(t).toHaveLength(12);
    expect(t.map((x) => x.index)).toEqual([...Array(12).keys()]);
    expect(t.slice(0, 6).every((x) => x.seed === 0) && t.slice(6).every((x) => x.seed === 1)).toBe(true);
    expect(t.slice(0, 3).map((x) => x.axes)).toEqual([
      { 'head.type': 'identity', 'loss.temperature': 0.1 },
      { 'head.type': 'identity', 'loss.temperature': 0.5 },
      { 'head.type': 'linear', 'loss.temperature': 0.1 },
    ]);
    expect(t[11].axes).toEqual({ 'head.type': 'mlp', 'loss.temperature': 0.5 });
    expect(axesLabel(t[11].axes)).toBe('head.type=mlp loss.temperature=0.5');
  });

  it('a zip group varies together; it multiplies with the grid', () => {
    const t = expandTrials(
      spec({ grid: { 'head.type': ['linear', 'mlp'] }, zip: [{ 'train.batchSize': [64, 128, 256], 'optimizer.lr': [0.075, 0.15, 0.3] }] }),
    );
    expect(t).toHaveLength(6);
    expect(t.map((x) => [x.axes['train.batchSize'], x.axes['optimizer.lr']])).toEqual([
      [64, 0.075],
      [128, 0.15],
      [256, 0.3],
      [64, 0.075],
      [128, 0.15],
      [256, 0.3],
    ]);
    expect(t.map((x) => x.axes['head.type'])).toEqual(['linear', 'linear', 'linear', 'mlp', 'mlp', 'mlp']);
  });

  it('random axes: n seeded samples within their ranges, the same for the same seed', () => {
    const s = spec({
      random: {
        n: 20,
        seed: 7,
        axes: {
          'loss.temperature': { logUniform: [0.05, 1] },
          'train.batchSize': { int: [64, 66] },
          'head.type': { choice: ['linear', 'mlp'] },
          'optimizer.momentum': { uniform: [0.8, 0.9] },
        },
      },
      seeds: [3],
    });
    const t = expandTrials(s);
    expect(t).toHaveLength(20);
    for (const x of t) {
      expect(x.seed).toBe(3);
      expect(x.axes['loss.temperature']).toBeGreaterThanOrEqual(0.05);
      expect(x.axes['loss.temperature']).toBeLessThan(1);
      expect([64, 65, 66]).toContain(x.axes['train.batchSize']);
      expect(['linear', 'mlp']).toContain(x.axes['head.type']);
      expect(x.axes['optimizer.momentum']).toBeGreaterThanOrEqual(0.8);
    }
    expect(new Set(t.map((x) => x.axes['train.batchSize'])).size).toBe(3);
    expect(expandTrials(s)).toEqual(t);
    expect(expandTrials({ ...s, random: { ...s.random!, seed: 8 } })).not.toEqual(t);
  });

  it('axis problems: zip lengths differ, a path on two axes, an empty range', () => {
    expect(() => expandTrials(spec({ zip: [{ a: [1, 2], b: [1] }] }))).toThrow(/zip group must have equal lengths, got a: 2, b: 1/);
    expect(() => expandTrials(spec({ grid: { 'loss.temperature': [0.1] }, zip: [{ 'loss.temperature': [0.2] }] }))).toThrow(
      /'loss.temperature' is already an axis at \/grid\/loss.temperature/,
    );
    expect(() => expandTrials(spec({ random: { n: 1, axes: { x: { int: [5, 2] } } } }))).toThrow(/empty range \[5, 2\]/);
  });

  it('the spec itself is validated: unknown keys with a hint, defaults filled', () => {
    let err: unknown;
    try {
      loadSweepSpec({ extends: 'simclr', grdi: {}, seeds: [] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/\/grdi: unknown key 'grdi' \(did you mean 'grid'\?\)/);
    expect(msg).toMatch(/\/seeds: must NOT have fewer than 1 items/);
    const s = spec({});
    expect(s.seeds).toEqual([0]);
    expect(s.metrics).toEqual(['knn_top1', 'linear_top1']);
    expect(expandTrials(s)).toEqual([{ index: 0, axes: {}, sets: {}, seed: 0 }]);
  });
});

describe('config hash', () => {
  it('key order does not matter; a changed value, a nested one, does; names do not', () => {
    const a = { seed: 0, head: { type: 'mlp', outDim: 128, hiddenDim: 512 }, train: { epochs: 1 } };
    const b = { train: { epochs: 1 }, head: { hiddenDim: 512, outDim: 128, type: 'mlp' }, seed: 0 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(configHash(a)).toBe(configHash(b));
    expect(configHash(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(configHash({ ...a, seed: 1 })).not.toBe(configHash(a));
    expect(configHash({ ...a, head: { ...a.head, outDim: 64 } })).not.toBe(configHash(a));
    expect(configHash({ ...a, eval: [1, 2] })).not.toBe(configHash({ ...a, eval: [2, 1] }));
    expect(configHash({ ...a, name: 'other', notes: { x: 'y' } })).toBe(configHash(a));
  });
});
