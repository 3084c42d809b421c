import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PluginRegistry, Rng, buildRun, progressAt, readCheckpoint, resolveExperiment, runExperiment, stateTensors, tf, type Loss } from '../../../cli/api.js';
import dino, { teacherTempAt } from '../../../plugins/losses/dino.js';
import { maxAbsDiff, randn, useBackend } from '../../helpers.js';
import { step } from '../../core/train/fixtures.js';
import { tinyDino } from '../dino-fixture.js';

type Mat = number[][];
const [K, B] = [5, 3];
const ctx = { seed: 0, rng: Rng.fromSeed(0), path: '/tasks/main/loss', registry: new PluginRegistry(), log: () => {}, inputDim: K };
const defaults = {
  output: 'z',
  globalViews: 2,
  studentTemp: 0.1,
  teacherTemp: 0.07,
  warmupTeacherTemp: 0.04,
  warmupTeacherTempEpochs: 2,
  centerMomentum: 0.9,
};
/** progress at `step` of a 100-step run of 10 steps per epoch: the warm-up (2 epochs) ends at step 20 */
const at = (step: number) => progressAt(step, 100, 10);
const index = Int32Array.from({ length: B }, (_, i) => i);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-dino-'));

/** Random logits `[B, K]` of the size of a dino head's cosines. */
const logits = (seed: number): Mat => {
  const v = randn([B, K], seed);
  return Array.from({ length: B }, (_, b) => Array.from(v.subarray(b * K, (b + 1) * K), (x) => 0.5 * x));
};
const t2 = (m: Mat) => tf.tensor2d(m);
const logSoftmax = (r: number[]) => {
  const m = Math.max(...r);
  const l = m + Math.log(r.reduce((a, x) => a + Math.exp(x - m), 0));
  return r.map((x) => x - l);
};
const softmax = (r: number[]) => logSoftmax(r).map(Math.exp);

/** The DINO loss as the official loop, in double precision: teacher views 0..G-1, every student view but the teacher's own. */
function dinoRef(student: Mat[], teacher: Mat[], center: number[], tt: number, ts: number): number {
  let total = 0;
  let terms = 0;
  teacher.forEach((t, i) => {
    const q = t.map((row) => softmax(row.map((x, k) => (x - center[k]) / tt)));
    student.forEach((s, v) => {
      if (v === i) return;
      let ce = 0;
      s.forEach((row, b) => {
        const lp = logSoftmax(row.map((x) => x / ts));
        for (let k = 0; k < K; k++) ce -= q[b][k] * lp[k];
      });
      total += ce / s.length;
      terms++;
    });
  });
  return total / terms;
}

const value = (out: ReturnType<Loss['compute']>) => ('loss' in out ? out.loss : out).dataSync()[0];
const term = (out: ReturnType<Loss['compute']>, name: string) => ('terms' in out ? out.terms[name].dataSync()[0] : NaN);

describe('dino loss', () => {
  beforeAll(() => useBackend('cpu'));

  // 2 global + 2 local views: the teacher sees views 0 and 1 only, as the step gives it
  const student = [0, 1, 2, 3].map((v) => logits(10 + v));
  const teacher = [0, 1].map((v) => logits(20 + v));
  const center = [0.3, -0.2, 0.1, 0.05, -0.4];
  const input = (progress = at(0)) => ({
    online: student.map((s) => ({ z: t2(s) })),
    target: [{ z: t2(teacher[0]) }, { z: t2(teacher[1]) }, undefined, undefined] as unknown as Array<Record<string, tf.Tensor>>,
    index,
    progress,
  });

  it('equals the official loop by hand for 2 global + 2 local views, with a centre, at the start, inside and after the warm-up', async () => {
    const loss = await dino.create(defaults, ctx);
    loss.state!()
      .get('center')!
      .assign(tf.tensor2d([center]));
    for (const [step, tt] of [
      [0, 0.04],
      [10, 0.055],
      [20, 0.07],
      [90, 0.07],
    ]) {
      const out = loss.compute(input(at(step)));
      const ref = dinoRef(student, teacher, center, tt, 0.1);
      expect(Math.abs(value(out) - ref)).toBeLessThan(1e-5);
      expect(term(out, 'teacher_temp')).toBeCloseTo(tt, 7);
    }
    // the reference discriminates: the centre, the temperature and the pairs each change it
    const ref = dinoRef(student, teacher, center, 0.04, 0.1);
    expect(Math.abs(ref - dinoRef(student, teacher, [0, 0, 0, 0, 0], 0.04, 0.1))).toBeGreaterThan(1e-3);
    expect(Math.abs(ref - dinoRef(student, teacher, center, 0.07, 0.1))).toBeGreaterThan(1e-3);
    expect(Math.abs(ref - dinoRef(student.slice(0, 2), teacher, center, 0.04, 0.1))).toBeGreaterThan(1e-3);
  });

  it('the centre: compute leaves it, afterStep makes it m·c + (1-m)·mean of the teacher logits of both global views; it is the state', async () => {
    const loss = await dino.create(defaults, ctx);
    const c = loss.state!().get('center')!;
    expect(c.shape).toEqual([1, K]);
    expect(c.trainable).toBe(false);
    expect(Array.from(c.dataSync())).toEqual([0, 0, 0, 0, 0]);
    c.assign(tf.tensor2d([center]));
    loss.compute(input());
    expect(Array.from(c.dataSync())).toEqual(Array.from(Float32Array.from(center)));
    const before = tf.memory().numTensors;
    loss.afterStep!(at(1));
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
    const rows = [...teacher[0], ...teacher[1]];
    const expected = center.map((ck, k) => 0.9 * ck + 0.1 * (rows.reduce((a, r) => a + r[k], 0) / rows.length));
    expect(maxAbsDiff(c.dataSync(), expected)).toBeLessThan(1e-6);
    // the mean is over both global views, not one of them
    const viewZero = center.map((ck, k) => 0.9 * ck + 0.1 * (teacher[0].reduce((a, r) => a + r[k], 0) / B));
    expect(maxAbsDiff(expected, viewZero)).toBeGreaterThan(1e-3);
    // applied once per compute
    loss.afterStep!(at(2));
    expect(maxAbsDiff(c.dataSync(), expected)).toBeLessThan(1e-6);
    // the next loss uses the new centre
    const out = loss.compute(input());
    expect(Math.abs(value(out) - dinoRef(student, teacher, expected, 0.04, 0.1))).toBeLessThan(1e-5);
    expect([...loss.state!().keys()]).toEqual(['center']);
  });

  it('the teacher temperature: 0.04 at step 0, linear over the warm-up epochs, 0.07 at its end and after; no warm-up: 0.07', () => {
    const o = { warmupTeacherTemp: 0.04, teacherTemp: 0.07, warmupTeacherTempEpochs: 2 };
    expect(teacherTempAt(o, { step: 0, stepsPerEpoch: 10 })).toBe(0.04);
    expect(teacherTempAt(o, { step: 5, stepsPerEpoch: 10 })).toBeCloseTo(0.04 + 0.03 * 0.25, 12);
    expect(teacherTempAt(o, { step: 19, stepsPerEpoch: 10 })).toBeCloseTo(0.04 + 0.03 * 0.95, 12);
    expect(teacherTempAt(o, { step: 20, stepsPerEpoch: 10 })).toBe(0.07);
    expect(teacherTempAt(o, { step: 1000, stepsPerEpoch: 10 })).toBe(0.07);
    // fractions of an epoch (short runs), and none
    expect(teacherTempAt({ ...o, warmupTeacherTempEpochs: 0.5 }, { step: 2, stepsPerEpoch: 8 })).toBeCloseTo(0.055, 12);
    expect(teacherTempAt({ ...o, warmupTeacherTempEpochs: 0.5 }, { step: 4, stepsPerEpoch: 8 })).toBe(0.07);
    expect(teacherTempAt({ ...o, warmupTeacherTempEpochs: 0 }, { step: 0, stepsPerEpoch: 8 })).toBe(0.07);
  });

  it('no gradient reaches the teacher; the student gets (n_v softmax(s_v/T_s) - sum of the other teachers q_i) / (T_s B n)', async () => {
    const loss = await dino.create(defaults, ctx);
    loss.state!()
      .get('center')!
      .assign(tf.tensor2d([center]));
    const xs = [...student.map(t2), ...teacher.map(t2)];
    const f = (...t: tf.Tensor[]) => {
      const out = loss.compute({ online: t.slice(0, 4).map((z) => ({ z })), target: t.slice(4).map((z) => ({ z })), index, progress: at(0) });
      return 'loss' in out ? out.loss : out;
    };
    const grads = tf.grads(f)(xs);
    for (const g of grads.slice(4)) expect(Math.max(...Array.from(g.dataSync(), Math.abs))).toBe(0);
    const q = teacher.map((t) => tf.softmax(tf.div(tf.sub(t2(t), tf.tensor2d([center])), 0.04)));
    const n = 2 * 3; // pairs (i, v), v != i
    student.forEach((s, v) => {
      const teachers = [0, 1].filter((i) => i !== v).map((i) => q[i]);
      const expected = tf.div(tf.sub(tf.mul(tf.softmax(tf.div(t2(s), 0.1)), teachers.length), tf.addN(teachers)), 0.1 * B * n);
      expect(maxAbsDiff(grads[v].dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    });
  });

  it('entropy terms: 0 for one output everywhere, log K for uniform teachers', async () => {
    const loss = await dino.create(defaults, ctx);
    const peaked = tf.tensor2d(Array.from({ length: B }, () => [40, 0, 0, 0, 0]));
    const flat = tf.zeros([B, K]);
    const run = (t: tf.Tensor) => loss.compute({ online: [{ z: flat }, { z: flat }], target: [{ z: t }, { z: t }], index, progress: at(0) });
    const p = run(peaked);
    expect(term(p, 'batch_entropy')).toBeLessThan(1e-6);
    expect(term(p, 'sample_entropy')).toBeLessThan(1e-6);
    const u = run(flat);
    expect(term(u, 'batch_entropy')).toBeCloseTo(Math.log(K), 5);
    expect(term(u, 'sample_entropy')).toBeCloseTo(Math.log(K), 5);
    // a batch spread over different outputs: each sample sharp, the batch mean not
    const spread = tf.tensor2d(Array.from({ length: B }, (_, b) => Array.from({ length: K }, (_, k) => (k === b ? 40 : 0))));
    const s = run(spread);
    expect(term(s, 'sample_entropy')).toBeLessThan(1e-6);
    expect(term(s, 'batch_entropy')).toBeCloseTo(Math.log(B), 5);
  });

  it('reads every view online and the global views on the target; refuses too few views, a wrong size, a missing target', async () => {
    const loss = await dino.create(defaults, ctx);
    expect(loss.viewsRead!(8)).toEqual({ online: [0, 1, 2, 3, 4, 5, 6, 7], target: [0, 1] });
    expect((await dino.create({ ...defaults, globalViews: 1 }, ctx)).viewsRead!(3)).toEqual({ online: [0, 1, 2], target: [0] });
    const z = tf.zeros([B, K]);
    expect(() => loss.compute({ online: [{ z }], target: [{ z }], index, progress: at(0) })).toThrow(/at least 2 views/);
    const three = await dino.create({ ...defaults, globalViews: 3 }, ctx);
    expect(() => three.compute({ online: [{ z }, { z }], target: [{ z }, { z }], index, progress: at(0) })).toThrow(/first 3 views.*there are 2/);
    const wide = tf.zeros([B, K + 1]);
    expect(() => loss.compute({ online: [{ z: wide }, { z: wide }], target: [{ z }, { z }], index, progress: at(0) })).toThrow(/\[B, 5\] logits/);
    expect(() => loss.compute({ online: [{ z }, { z }], index, progress: at(0) })).toThrow(/no target branch/);
    await expect(Promise.resolve().then(() => dino.create(defaults, { ...ctx, inputDim: undefined as unknown as number }))).rejects.toThrow(
      /size of the head's output/,
    );
  });

  it('in a run: the teacher encodes only the global views, the centre is in the checkpoint, and a resumed run equals the uninterrupted one on cpu', async () => {
    const { config, registry } = await resolveExperiment(tinyDino());
    const parts = await buildRun(config, { registry });
    expect(stateTensors(parts).get('tasks/main/loss/center')?.shape).toEqual([1, 16]);
    const task = parts.tasks[0];
    const seen: number[] = [];
    const outputs = task.target.outputs.bind(task.target);
    task.target.outputs = (views, online, forward) => (seen.push(views.length), outputs(views, online, forward));
    const r = await step(parts);
    expect(seen).toEqual([2]); // the momentum teacher: the 2 global crops
    expect(r.views).toBe(16 * 4); // the student: all 4 crops of the 16 images

    const full = await runExperiment(tinyDino(), { outDir: tmp() });
    expect(full.steps).toBe(12);
    const dir = tmp();
    await runExperiment(tinyDino({ train: { epochs: 3, batchSize: 16, checkpointEvery: 1, clipGradNorm: 3, maxSteps: 5 } }), { outDir: dir });
    const { meta, values } = readCheckpoint(dir);
    const entry = meta.tensors.find((t) => t.key === 'tasks/main/loss/center')!;
    expect(entry.shape).toEqual([1, 16]);
    const saved = values.subarray(entry.offset, entry.offset + 16);
    expect(Math.max(...Array.from(saved, Math.abs))).toBeGreaterThan(0); // moved from 0: restoring it matters
    const resumed = await runExperiment('', { resume: dir, sets: ['train.maxSteps=1000'] });
    expect(resumed.losses).toEqual(full.losses.slice(5));
  });
});
