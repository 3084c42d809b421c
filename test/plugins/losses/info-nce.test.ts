import { beforeAll, describe, expect, it } from 'vitest';
import { PluginRegistry, Rng, progressAt, tf } from '../../../cli/api.js';
import infoNce from '../../../plugins/losses/info-nce.js';
import inBatch from '../../../plugins/negatives/in-batch.js';
import { randn, useBackend } from '../../helpers.js';

const ctx = { seed: 0, rng: Rng.fromSeed(0), path: '/loss', registry: new PluginRegistry(), log: () => {} };
const index = (n: number) => Int32Array.from({ length: n }, (_, i) => 1000 + i);
const progress = progressAt(0, 10, 10);
/** one output `z` per view */
const zs = (ts: tf.Tensor[]) => ts.map((z) => ({ z }));

/** SimCLR's NT-Xent written as the paper does: a loop over all 2N anchors. */
function ntXentLoop(z1: number[][], z2: number[][], t: number): number {
  const z = [...z1, ...z2].map((v) => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
  const n2 = z.length;
  const half = n2 / 2;
  const sim = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0) / t;
  let total = 0;
  for (let i = 0; i < n2; i++) {
    const j = (i + half) % n2;
    let denom = 0;
    for (let k = 0; k < n2; k++) if (k !== i) denom += Math.exp(sim(z[i], z[k]));
    total += -Math.log(Math.exp(sim(z[i], z[j])) / denom);
  }
  return total / n2;
}

/** InfoNCE with a shared negative set (MoCo style): logits [pos, q.negs] / T, positive at 0. */
function queueLoop(q: number[][], k: number[][], negs: number[][], t: number): number {
  const nrm = (v: number[]) => v.map((x) => x / Math.hypot(...v));
  let total = 0;
  q.forEach((qi, i) => {
    const a = nrm(qi);
    const dot = (b: number[]) => a.reduce((s, x, j) => s + x * nrm(b)[j], 0) / t;
    const logits = [dot(k[i]), ...negs.map(dot)];
    const m = Math.max(...logits);
    total += m + Math.log(logits.reduce((s, l) => s + Math.exp(l - m), 0)) - logits[0];
  });
  return total / q.length;
}

/** MoCo v3's loss for one pair of views: mean_n ( logsumexp_m(q_n . k_m / T) - q_n . k_n / T ), q and k L2-normalised. */
function pairLoop(q: number[][], k: number[][], t: number): number {
  const nrm = (v: number[]) => v.map((x) => x / Math.hypot(...v));
  const qs = q.map(nrm);
  const ks = k.map(nrm);
  let total = 0;
  qs.forEach((qn, n) => {
    const logits = ks.map((km) => qn.reduce((s, x, j) => s + x * km[j], 0) / t);
    const m = Math.max(...logits);
    total += m + Math.log(logits.reduce((s, l) => s + Math.exp(l - m), 0)) - logits[n];
  });
  return total / q.length;
}

const rows = (a: Float32Array, n: number, d: number) => Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * d, (i + 1) * d)));

describe('info-nce', () => {
  beforeAll(() => useBackend('cpu'));

  it('uniform similarities give log(2N-1) (NT-Xent with in-batch negatives)', async () => {
    const loss = await infoNce.create({ temperature: 0.5, symmetric: true, online: 'z', target: 'z', pairNegatives: false }, ctx);
    const neg = await inBatch.create({ branch: 'online', output: 'z' }, ctx);
    for (const n of [2, 8, 64]) {
      const z = tf.ones([n, 16]) as tf.Tensor2D;
      const views = zs([z, z]);
      const value = loss.compute({
        online: views,
        target: views,
        negatives: neg.negatives({ online: views, target: views, index: index(n) }),
        index: index(n),
        progress,
      }) as tf.Scalar;
      expect(value.dataSync()[0]).toBeCloseTo(Math.log(2 * n - 1), 5);
    }
  });

  it('matches a naive NT-Xent loop on random inputs to 1e-5', async () => {
    for (const [n, d, t] of [
      [5, 7, 0.5],
      [16, 32, 0.1],
      [3, 4, 1.0],
    ] as const) {
      const a = randn([n, d], n);
      const b = randn([n, d], n + 100);
      const loss = await infoNce.create({ temperature: t, symmetric: true, online: 'z', target: 'z', pairNegatives: false }, ctx);
      const neg = await inBatch.create({ branch: 'online', output: 'z' }, ctx);
      const views = zs([tf.tensor2d(a, [n, d]), tf.tensor2d(b, [n, d])]);
      const got = (
        loss.compute({
          online: views,
          target: views,
          negatives: neg.negatives({ online: views, target: views, index: index(n) }),
          index: index(n),
          progress,
        }) as tf.Scalar
      ).dataSync()[0];
      expect(Math.abs(got - ntXentLoop(rows(a, n, d), rows(b, n, d), t))).toBeLessThan(1e-5);
    }
  });

  it('with a shared negative set (queue) matches the MoCo formula, and ignores negatives owned by the query', async () => {
    const [n, d, k, t] = [6, 8, 10, 0.07];
    const q = randn([n, d], 1);
    const kk = randn([n, d], 2);
    const negs = randn([k, d], 3);
    const loss = await infoNce.create({ temperature: t, symmetric: false, online: 'z', target: 'z', pairNegatives: false }, ctx);
    const args = { online: zs([tf.tensor2d(q, [n, d])]), target: zs([tf.tensor2d(kk, [n, d])]), index: index(n), progress };
    const plain = (loss.compute({ ...args, negatives: { embeddings: tf.tensor2d(negs, [k, d]) } }) as tf.Scalar).dataSync()[0];
    expect(Math.abs(plain - queueLoop(rows(q, n, d), rows(kk, n, d), rows(negs, k, d), t))).toBeLessThan(1e-5);
    // mark negative 0 as belonging to sample 0 and negative 1 to sample 3: they drop out of those rows only
    const owner = new Int32Array(k).fill(-1);
    owner[0] = 1000;
    owner[1] = 1003;
    const masked = (loss.compute({ ...args, negatives: { embeddings: tf.tensor2d(negs, [k, d]), owner } }) as tf.Scalar).dataSync()[0];
    const ref =
      rows(q, n, d).reduce((s, qi, i) => {
        const keep = rows(negs, k, d).filter((_, j) => owner[j] !== 1000 + i);
        return s + queueLoop([qi], [rows(kk, n, d)[i]], keep, t);
      }, 0) / n;
    expect(Math.abs(masked - ref)).toBeLessThan(1e-5);
  });

  it("pairNegatives (MoCo v3): queries from online 'p', keys from target 'z', the batch's other keys as negatives, matching a naive loop to 1e-5", async () => {
    for (const [n, d, t] of [
      [5, 7, 0.2],
      [12, 16, 1.0],
      [3, 4, 0.5],
    ] as const) {
      const p = [randn([n, d], 10 + n), randn([n, d], 20 + n)];
      const z = [randn([n, d], 30 + n), randn([n, d], 40 + n)];
      const k = [randn([n, d], 50 + n), randn([n, d], 60 + n)];
      // the online z differ from p: a loss that read them would not match the reference
      const online = [0, 1].map((v) => ({ z: tf.tensor2d(z[v], [n, d]), p: tf.tensor2d(p[v], [n, d]) }));
      const target = zs([0, 1].map((v) => tf.tensor2d(k[v], [n, d])));
      const ref = (a: number, b: number) => pairLoop(rows(p[a], n, d), rows(k[b], n, d), t);
      const sym = await infoNce.create({ temperature: t, symmetric: true, online: 'p', target: 'z', pairNegatives: true }, ctx);
      const gotSym = (sym.compute({ online, target, negatives: undefined, index: index(n), progress }) as tf.Scalar).dataSync()[0];
      expect(Math.abs(gotSym - (ref(0, 1) + ref(1, 0)) / 2)).toBeLessThan(1e-5);
      const asym = await infoNce.create({ temperature: t, symmetric: false, online: 'p', target: 'z', pairNegatives: true }, ctx);
      const gotAsym = (asym.compute({ online, target, negatives: undefined, index: index(n), progress }) as tf.Scalar).dataSync()[0];
      expect(Math.abs(gotAsym - ref(0, 1))).toBeLessThan(1e-5);
      // the two ordered pairs differ on random data, so symmetric is not the (0, 1) pair alone
      expect(Math.abs(ref(0, 1) - ref(1, 0))).toBeGreaterThan(1e-3);
    }
  });

  it('refuses a task without a positive, with a sentence', async () => {
    const loss = await infoNce.create({ temperature: 0.5, symmetric: true, online: 'z', target: 'z', pairNegatives: false }, ctx);
    expect(() => loss.compute({ online: zs([tf.ones([2, 3])]), index: index(2), progress })).toThrow(/needs a positive/);
  });
});
