import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinPresets, createRegistry } from '../../../cli/api.js';
import { SweepStore, buildReport, planSweep } from '../../../cli/sweep-api.js';

/** A methods comparison (an extends axis) whose losses live on different scales, with the collapse monitor as a metric. */
async function fakeMethods(dir: string) {
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
  for (const t of plan.trials) {
    const [l1, l2] = loss[t.axes.extends as string];
    store.commitDone(t.hash, {
      backend: 'cpu',
      steps: 8,
      seconds: 1,
      trainSeconds: 0.5,
      final: { knn_top1: 0.7 + 0.01 * t.seed, linear_top1: 0.8, z_std: 0.05 + 0.001 * t.seed, loss: l2 },
      history: [
        { epoch: 1, step: 4, loss: l1, z_std: 0.05 },
        { epoch: 2, step: 8, loss: l2, z_std: 0.06 },
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
    expect(captions).toEqual(['knn_top1, linear_top1 against extends', 'z_std against extends', 'loss per epoch', 'z_std per epoch']);
    expect(r.html).toContain('loss per epoch (mean over seeds; each trial on its own scale)');
    expect(r.html).not.toContain('z_std per epoch (mean over seeds; each trial on its own scale)'); // comparable: one shared axis
    // the three trial panels carry their own labels
    for (const m of ['simclr', 'barlow-twins', 'simsiam']) expect(r.html).toContain(`extends=${m}`);
    expect(r.html).toContain('<div class="scroll"><table id="summary">');
  });
});
