import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinPresets, createRegistry } from '../../../cli/api.js';
import { SweepStore, buildReport, planSweep } from '../../../cli/sweep-api.js';
import { Z_REL, addRelativeSpread } from '../../../core/sweep/report.js';

/** A methods comparison (an extends axis) whose losses live on different scales, with the collapse monitor as a metric. */
async function fakeMethods(dir: string, withRef = true) {
  const spec = {
    name: 'methods',
    extends: 'simclr',
    grid: { extends: ['simclr', 'barlow-twins', 'simsiam'] },
    seeds: [0, 1],
    metrics: ['knn_top1', 'linear_top1', 'z_std'],
  };
  const plan = await planSweep(spec, { registry: createRegistry(), presets: builtinPresets() });
  const store = new SweepStore(dir);
  store.setMeta({ name: plan.name, spec: plan.spec, axes: ['extends'], metrics: plan.spec.metrics, hashes: plan.trials.map((t) => t.hash) });
  store.plan(plan.trials);
  const loss: Record<string, [number, number]> = { simclr: [5.2, 4.6], 'barlow-twins': [120, 60], simsiam: [-0.4, -0.8] };
  // z of 128, 2048 and 2048 values: the same spread relative to 1/sqrt(D), raw values 4x apart
  const dim: Record<string, number> = { simclr: 128, 'barlow-twins': 2048, simsiam: 2048 };
  for (const t of plan.trials) {
    const [l1, l2] = loss[t.axes.extends as string];
    const ref = 1 / Math.sqrt(dim[t.axes.extends as string]);
    store.commitDone(t.hash, {
      backend: 'cpu',
      steps: 8,
      seconds: 1,
      trainSeconds: 0.5,
      final: { knn_top1: 0.7 + 0.01 * t.seed, linear_top1: 0.8, z_std: 0.6 * ref, ...(withRef ? { z_std_ref: ref } : {}), loss: l2 },
      history: [
        { epoch: 1, step: 4, loss: l1, z_std: 0.5 * ref },
        { epoch: 2, step: 8, loss: l2, z_std: 0.6 * ref },
      ],
    });
  }
  store.close();
}

describe('sweep report of a methods comparison', () => {
  it('accuracies share a chart, z_std gets its own; losses on different scales are drawn one panel per trial, each on its own y-axis', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-report-methods-'));
    await fakeMethods(dir);
    const r = await buildReport(dir);
    const captions = [...r.html.matchAll(/<figcaption>([^<]*)<\/figcaption>/g)].map((m) => m[1]);
    expect(captions).toEqual(['knn_top1, linear_top1 against extends', `${Z_REL} against extends`, 'loss per epoch', `${Z_REL} per epoch`]);
    expect(r.html).toContain('loss per epoch (mean over seeds; each trial on its own scale)');
    // the raw z_std of 128- and 2048-value heads differ 4x; relative to 1/sqrt(D) they share one axis
    expect(r.html).toContain(`${Z_REL} per epoch (mean over seeds)`);
    expect(r.html).not.toContain(`${Z_REL} per epoch (mean over seeds; each trial on its own scale)`);
    expect(r.markdown).toMatch(/\| z_std \|/); // the table keeps the raw value
    // the three trial panels carry their own labels
    for (const m of ['simclr', 'barlow-twins', 'simsiam']) expect(r.html).toContain(`extends=${m}`);
    expect(r.html).toContain('<div class="scroll"><table id="summary">');
  });

  it('z_std relative to 1/sqrt(D): the ratio per trial and epoch; a store without z_std_ref keeps the raw z_std, each trial on its own scale', async () => {
    const rows = [
      { hash: 'a', status: 'done' },
      { hash: 'b', status: 'done' },
      { hash: 'c', status: 'failed' },
    ] as never[];
    const finals = new Map<string, Record<string, number>>([
      ['a', { z_std: 0.05, z_std_ref: 0.1 }],
      ['b', { z_std: 0.01, z_std_ref: 0.02 }],
    ]);
    const epochs = new Map([
      [
        'a',
        [
          { epoch: 1, z_std: 0.02 },
          { epoch: 2, z_std: 0.05 },
        ],
      ],
    ]);
    expect(addRelativeSpread(rows, finals, epochs)).toBe(true);
    expect(finals.get('a')![Z_REL]).toBeCloseTo(0.5, 12);
    expect(finals.get('b')![Z_REL]).toBeCloseTo(0.5, 12);
    const perEpoch = epochs.get('a')!.map((r) => (r as Record<string, number>)[Z_REL]);
    expect(perEpoch).toHaveLength(2);
    expect(perEpoch[0]).toBeCloseTo(0.2, 12);
    expect(perEpoch[1]).toBeCloseTo(0.5, 12);
    // one finished trial without its reference: not every trial can be drawn relative
    const oneWithout = new Map<string, Record<string, number>>([
      ['a', { z_std: 0.05, z_std_ref: 0.1 }],
      ['b', { z_std: 0.01 }],
    ]);
    expect(addRelativeSpread(rows, oneWithout, new Map())).toBe(false);
    expect(oneWithout.get('a')![Z_REL]).toBeUndefined(); // all or nothing: no trial is drawn relative

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-report-methods-'));
    await fakeMethods(dir, false);
    const r = await buildReport(dir);
    const captions = [...r.html.matchAll(/<figcaption>([^<]*)<\/figcaption>/g)].map((m) => m[1]);
    expect(captions).toEqual(['knn_top1, linear_top1 against extends', 'z_std against extends', 'loss per epoch', 'z_std per epoch']);
    expect(r.html).toContain('z_std per epoch (mean over seeds; each trial on its own scale)');
  });
});
