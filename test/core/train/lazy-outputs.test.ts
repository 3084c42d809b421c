import { describe, expect, it } from 'vitest';
import { lazyOutputs, tf } from '../../../cli/api.js';

describe('lazyOutputs', () => {
  it('makes each output once, when first read, and never one that is not read', () => {
    const made: string[] = [];
    const out = lazyOutputs(['h', 'map', 'z'], (name) => (made.push(name), tf.scalar(name.length)));
    expect(Object.keys(out)).toEqual(['h', 'map', 'z']);
    expect(made).toEqual([]);
    const z1 = out.z;
    const z2 = out.z;
    expect(z2).toBe(z1); // the same tensor: no second gather, slice or stopGradient
    expect(out.h.dataSync()[0]).toBe(1);
    expect(made).toEqual(['z', 'h']);
  });
});
