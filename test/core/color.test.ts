import { beforeAll, describe, expect, it } from 'vitest';
import { labToRgb, rgbToLab, tf } from '../../cli/api.js';
import { maxAbsDiff, useBackend } from '../helpers.js';

const lab = (r: number, g: number, b: number) => Array.from(rgbToLab(tf.tensor4d([r, g, b], [1, 1, 1, 3])).dataSync());
const deltaE = (p: number[], q: number[]) => Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);

describe('sRGB <-> CIE Lab (D65)', () => {
  beforeAll(() => useBackend('cpu'));

  it('known colours within 0.5 delta-E of the CIE reference values', () => {
    expect(deltaE(lab(1, 1, 1), [100, 0, 0])).toBeLessThan(0.5); // white
    expect(deltaE(lab(0, 0, 0), [0, 0, 0])).toBeLessThan(0.5); // black
    expect(deltaE(lab(1, 0, 0), [53.24, 80.09, 67.2])).toBeLessThan(0.5); // sRGB red
    expect(deltaE(lab(0, 1, 0), [87.73, -86.18, 83.18])).toBeLessThan(0.5); // sRGB green
    expect(deltaE(lab(0, 0, 1), [32.3, 79.19, -107.86])).toBeLessThan(0.5); // sRGB blue
    expect(deltaE(lab(0.5, 0.5, 0.5), [53.39, 0, 0])).toBeLessThan(0.5); // mid-grey (sRGB 128)
  });

  it('round-trips sRGB -> Lab -> sRGB within 1e-3 over a grid of the cube', () => {
    const v: number[] = [];
    for (let r = 0; r <= 1; r += 0.125) for (let g = 0; g <= 1; g += 0.125) for (let b = 0; b <= 1; b += 0.125) v.push(r, g, b);
    const x = tf.tensor4d(v, [1, 1, v.length / 3, 3]);
    expect(maxAbsDiff(labToRgb(rgbToLab(x)).dataSync(), v)).toBeLessThan(1e-3);
  });
});
