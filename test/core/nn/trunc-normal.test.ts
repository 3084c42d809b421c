import { describe, expect, it } from 'vitest';
import { Rng } from '../../../cli/api.js';
import { truncNormal } from '../../../core/nn/params.js';

const stats = (v: Float32Array) => {
  let s = 0,
    s2 = 0,
    m = 0;
  for (const x of v) {
    s += x;
    s2 += x * x;
    m = Math.max(m, Math.abs(x));
  }
  const mean = s / v.length;
  return { mean, std: Math.sqrt(s2 / v.length - mean * mean), max: m };
};

describe('truncNormal (PyTorch trunc_normal_: absolute bounds)', () => {
  it('at std 0.02 the bounds ±2 never bite: the sample std is 0.02, not the 0.0176 of a ±2σ truncation', () => {
    const s = stats(truncNormal(0.02)(200_000, Rng.fromSeed(1, 'init')));
    expect(Math.abs(s.mean)).toBeLessThan(2e-4);
    expect(s.std).toBeGreaterThan(0.0197);
    expect(s.std).toBeLessThan(0.0203);
    expect(s.max).toBeGreaterThan(0.08); // beyond 4σ somewhere in 200,000 draws
  });

  it('at std 1 it truncates at ±2: every value within, and the std of N(0,1) cut at ±2 (0.880)', () => {
    const s = stats(truncNormal(1)(200_000, Rng.fromSeed(2, 'init')));
    expect(s.max).toBeLessThanOrEqual(2);
    expect(s.std).toBeGreaterThan(0.874);
    expect(s.std).toBeLessThan(0.886);
  });
});
