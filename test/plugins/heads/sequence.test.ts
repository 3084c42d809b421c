import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, createRegistry, tf, type Head } from '../../../cli/api.js';
import { useBackend } from '../../helpers.js';

const registry = createRegistry();
const build = async (stages: unknown) =>
  (await registry.create('head', { type: 'sequence', stages } as never, {
    seed: 0,
    rng: Rng.fromSeed(0),
    path: '/head',
    registry,
    log: () => {},
    input: 'h',
    inputDim: 6,
  })) as Head;

describe('sequence head', () => {
  beforeAll(() => useBackend('cpu', registry));

  it('each stage reads the previous output; every output is returned by name; parameters are prefixed by the stage name', async () => {
    const head = await build([
      { name: 'z', head: { type: 'linear', outDim: 4 } },
      { name: 'scores', head: { type: 'prototypes', count: 5 } },
    ]);
    expect(head.dim).toBe(4); // the main output, z
    expect(head.params.list().map((p) => p.name)).toEqual(['z/fc.weight', 'z/fc.bias', 'scores/prototypes.weight']);
    const h = tf.tensor2d(
      Array.from({ length: 18 }, (_, i) => Math.sin(i)),
      [3, 6],
    );
    const out = head.forward({ h }, true) as Record<string, tf.Tensor>;
    expect(Object.keys(out)).toEqual(['z', 'scores']);
    // z = h W + b, scores = normalise(z) P: recompute from the parameters
    const W = head.params.get('z/fc.weight')!.variable;
    const b = head.params.get('z/fc.bias')!.variable;
    const P = head.params.get('scores/prototypes.weight')!.variable;
    const z = tf.add(tf.matMul(h, W), b);
    expect(Array.from(out.z.dataSync())).toEqual(Array.from(z.dataSync()));
    const s = tf.matMul(tf.div(z, tf.norm(z, 'euclidean', 1, true)), P).dataSync();
    Array.from(out.scores.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(s[i], 5));
  });

  it("forwards afterStep to its stages (the prototypes' renormalisation) and refuses two stages of one name", async () => {
    const head = await build([
      { name: 'z', head: { type: 'linear', outDim: 4 } },
      { name: 'scores', head: { type: 'prototypes', count: 3 } },
    ]);
    const P = head.params.get('scores/prototypes.weight')!.variable;
    P.assign(tf.mul(P, 3));
    head.afterStep!({ step: 1, totalSteps: 2, epoch: 0, stepsPerEpoch: 2, fraction: 0.5 });
    const norms = tf.norm(P, 'euclidean', 0).dataSync();
    norms.forEach((n) => expect(n).toBeCloseTo(1, 5));
    await expect(
      build([
        { name: 'z', head: { type: 'linear' } },
        { name: 'z', head: { type: 'linear' } },
      ]),
    ).rejects.toThrow(/two stages are named 'z'/);
  });
});
