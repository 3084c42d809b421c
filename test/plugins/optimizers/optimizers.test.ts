import { beforeAll, describe, expect, it } from 'vitest';
import { ParamGroups, ParamStore, Rng, constant, createRegistry, tf, type Optimizer, type Param } from '../../../cli/api.js';
import { useBackend } from '../../helpers.js';

const registry = createRegistry();
const make = async (ref: { type: string; [k: string]: unknown }) =>
  (await registry.create('optimizer', ref, { seed: 0, rng: Rng.fromSeed(0), path: '/optimizer', registry, log: () => {} })) as Optimizer;

/** w = [1, -2] (decayed), b = [0.5] (not decayed), fixed gradients. */
function setup(opt: Optimizer) {
  const store = new ParamStore('t');
  const w = store.add('w', [2], { init: () => new Float32Array([1, -2]) });
  const b = store.add('b', [1], { init: constant(0.5), decay: false });
  const params: Param[] = store.list();
  opt.init(params);
  // no parameter groups: weight decay and LARS adaptation follow each parameter's `decay`
  const groups = new ParamGroups(
    params.map((p) => ({ ...p, key: p.name })),
    [],
  );
  const step = (gw: number[], gb: number[], lr: number) =>
    tf.tidy(() =>
      opt.apply(
        new Map([
          ['w', tf.tensor1d(gw)],
          ['b', tf.tensor1d(gb)],
        ]),
        groups.hyper(opt, lr / opt.lr),
      ),
    );
  return { w, b, step };
}
const values = (v: tf.Variable) => Array.from(v.dataSync());

describe('optimizers', () => {
  beforeAll(() => useBackend('cpu', registry));

  it('sgd: momentum buffer and weight decay only on decayed parameters (PyTorch formula)', async () => {
    const { w, b, step } = setup(await make({ type: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0.01 }));
    step([0.5, 0.5], [1], 0.1);
    // g = grad + wd*w = [0.51, 0.48]; v = g; w -= lr*v
    expect(values(w)[0]).toBeCloseTo(1 - 0.1 * 0.51, 6);
    expect(values(w)[1]).toBeCloseTo(-2 - 0.1 * 0.48, 6);
    expect(values(b)[0]).toBeCloseTo(0.5 - 0.1 * 1, 6);
    step([0.5, 0.5], [1], 0.1);
    // v2 = 0.9*1 + 1 = 1.9 for b
    expect(values(b)[0]).toBeCloseTo(0.4 - 0.1 * 1.9, 6);
  });

  it('adam: bias-corrected first step moves each weight by lr*sign(g); adamw decays apart from the gradient', async () => {
    const a = setup(await make({ type: 'adam', lr: 0.01 }));
    a.step([0.3, -4], [2], 0.01);
    expect(values(a.w)[0]).toBeCloseTo(1 - 0.01, 5);
    expect(values(a.w)[1]).toBeCloseTo(-2 + 0.01, 5);
    const d = setup(await make({ type: 'adamw', lr: 0.01, weightDecay: 0.1 }));
    d.step([0.3, -4], [2], 0.01);
    expect(values(d.w)[0]).toBeCloseTo(1 - 0.01 - 0.01 * 0.1 * 1, 5);
    expect(values(d.b)[0]).toBeCloseTo(0.5 - 0.01, 5); // no decay on b
  });

  it('adam over three steps with unequal betas and L2 decay, against the hand-computed update (swapped betas would not match)', async () => {
    const o = { lr: 0.02, beta1: 0.8, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
    const { w, b, step } = setup(await make({ type: 'adam', ...o }));
    const wv = [1, -2];
    let bv = 0.5;
    const m = [0, 0, 0];
    const v = [0, 0, 0];
    const grads: Array<[number[], number]> = [
      [[0.3, -4], 2],
      [[-1, 0.5], -0.2],
      [[0.7, 0.7], 1.5],
    ];
    grads.forEach(([gw, gb], t) => {
      step(gw, [gb], o.lr);
      const g = [gw[0] + o.weightDecay * wv[0], gw[1] + o.weightDecay * wv[1], gb]; // no decay on the bias
      const c1 = 1 - o.beta1 ** (t + 1);
      const c2 = 1 - o.beta2 ** (t + 1);
      const upd = g.map((x, i) => {
        m[i] = o.beta1 * m[i] + (1 - o.beta1) * x;
        v[i] = o.beta2 * v[i] + (1 - o.beta2) * x * x;
        return (o.lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + o.eps);
      });
      wv[0] -= upd[0];
      wv[1] -= upd[1];
      bv -= upd[2];
      expect(values(w)[0]).toBeCloseTo(wv[0], 5);
      expect(values(w)[1]).toBeCloseTo(wv[1], 5);
      expect(values(b)[0]).toBeCloseTo(bv, 5);
    });
  });

  it('lars: trust ratio eta*||w||/||g|| scales decayed parameters only', async () => {
    const { w, b, step } = setup(await make({ type: 'lars', lr: 1, momentum: 0.9, weightDecay: 0, eta: 0.001 }));
    step([3, 4], [2], 1);
    const trust = (0.001 * Math.sqrt(5)) / 5;
    expect(values(w)[0]).toBeCloseTo(1 - trust * 3, 6);
    expect(values(w)[1]).toBeCloseTo(-2 - trust * 4, 6);
    expect(values(b)[0]).toBeCloseTo(0.5 - 2, 6);
  });

  it('lars with weight decay, momentum and clip: two steps against a hand-computed update', async () => {
    // w = [1, -2] adapted and decayed, b = [0.5] neither; lr 0.5, mu 0.9, wd 0.1, eta 0.3, clipped
    const { w, b, step } = setup(await make({ type: 'lars', lr: 0.5, momentum: 0.9, weightDecay: 0.1, eta: 0.3, clip: true }));
    const lr = 0.5;
    let wv = [1, -2];
    let bv = 0.5;
    const vw = [0, 0];
    let vb = 0;
    for (const [gw, gb] of [
      [[3, 4], 2],
      [[-1, 0.5], 1],
    ] as Array<[number[], number]>) {
      step(gw, [gb], lr);
      const g = gw.map((x, i) => x + 0.1 * wv[i]);
      const ratio = (0.3 * Math.hypot(...wv)) / Math.hypot(...g);
      const trust = Math.min(ratio / lr, 1); // clip: the adapted rate never exceeds lr
      g.forEach((x, i) => (vw[i] = 0.9 * vw[i] + lr * trust * x));
      wv = wv.map((x, i) => x - vw[i]);
      vb = 0.9 * vb + lr * gb;
      bv -= vb;
      expect(values(w)[0]).toBeCloseTo(wv[0], 6);
      expect(values(w)[1]).toBeCloseTo(wv[1], 6);
      expect(values(b)[0]).toBeCloseTo(bv, 6);
    }
    // the first step's ratio 0.3*sqrt(5)/|[3.1, 3.8]| = 0.136 < lr: not clipped; a large eta is clipped to plain SGD
    const clipped = setup(await make({ type: 'lars', lr: 0.1, momentum: 0, weightDecay: 0, eta: 10, clip: true }));
    clipped.step([3, 4], [0], 0.1);
    expect(values(clipped.w)).toEqual([expect.closeTo(1 - 0.3, 6), expect.closeTo(-2 - 0.4, 6)]);
  });

  it('keeps its state in named slots for checkpoints', async () => {
    const opt = await make({ type: 'adam' });
    setup(opt);
    expect([...opt.state().keys()].sort()).toEqual(['b/m', 'b/v', 'step', 'w/m', 'w/v']);
  });
});
