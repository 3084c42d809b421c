import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { browserTest, launchChromium } from '../browser.js';
import { builtinPresets, createRegistry } from '../../cli/api.js';
import { SweepStore, planSweep } from '../../cli/sweep-api.js';

const itInBrowser = browserTest("the sweep report's browser test");
const BIN = path.resolve('dist/cli/main.js');
const ARTIFACTS = path.resolve('test-artifacts');

/** A sweep store with known results: 3 heads x 2 seeds, 2 epochs each, no training needed. */
async function fakeSweep(dir: string) {
  const plan = await planSweep(path.resolve('test/fixtures/sweep/heads.json'), { registry: createRegistry(), presets: builtinPresets() });
  const store = new SweepStore(dir);
  store.setMeta({ name: plan.name, spec: plan.spec, axes: ['head.type'], metrics: plan.spec.metrics, hashes: plan.trials.map((t) => t.hash) });
  store.plan(plan.trials);
  const base: Record<string, number> = { identity: 0.7, linear: 0.75, mlp: 0.8 };
  for (const t of plan.trials) {
    const h = base[t.axes['head.type'] as string] + 0.01 * t.seed;
    store.commitDone(t.hash, {
      backend: 'cpu',
      steps: 8,
      seconds: 1,
      trainSeconds: 0.5,
      final: { knn_top1: h, knn_z_top1: h - 0.1, loss: 2 },
      history: [
        { epoch: 1, step: 4, loss: 3 + t.seed },
        { epoch: 2, step: 8, loss: 2.5 + t.seed },
      ],
    });
  }
  store.close();
  return plan;
}

describe('selfsup report', () => {
  it('Markdown table: mean ± std over seeds per axis value', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-report-'));
    await fakeSweep(dir);
    const r = spawnSync(process.execPath, [BIN, 'report', dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('| head.type | seeds | steps | knn_top1 | knn_z_top1 |');
    // mlp: 80 and 81 -> mean 80.50, sample std 0.71; z 10 points lower
    expect(r.stdout).toContain('| mlp | 2/2 | 8 | 80.50 ± 0.71 | 70.50 ± 0.71 |');
    expect(r.stdout).toContain('| identity | 2/2 | 8 | 70.50 ± 0.71 | 60.50 ± 0.71 |');
    expect(fs.readFileSync(path.join(dir, 'report.md'), 'utf8')).toContain('| linear | 2/2 | 8 | 75.50 ± 0.71 | 65.50 ± 0.71 |');
  });

  itInBrowser('the HTML page renders in headless Chromium with no network: the table and the plots as SVG', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-report-'));
    await fakeSweep(dir);
    expect(spawnSync(process.execPath, [BIN, 'report', dir], { encoding: 'utf8' }).status).toBe(0);
    const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const requests: string[] = [];
      page.on('request', (q) => requests.push(q.url()));
      await page.goto(`file://${path.join(dir, 'report.html')}`);
      expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
      const rows = await page.locator('#summary tbody tr').allInnerTexts();
      expect(rows.map((r) => r.split('\t')[0])).toEqual(['identity', 'linear', 'mlp']);
      expect(rows[2]).toContain('80.50 ± 0.71');
      // metric against head.type, and loss per epoch
      const charts = page.locator('figure.chart svg');
      expect(await charts.count()).toBe(2);
      const first = charts.nth(0);
      // one dot per trial and metric (6 x 2), one mean line per metric, error bars
      expect(await first.locator('g.mark-symbol path').count()).toBeGreaterThanOrEqual(12);
      expect(await first.locator('g.mark-line path').count()).toBe(2);
      expect(await first.locator('g.mark-rule line, g.mark-rule path').count()).toBeGreaterThan(0);
      expect(await first.locator('text', { hasText: 'head.type' }).count()).toBeGreaterThan(0);
      const box = await first.boundingBox();
      expect(box!.width).toBeGreaterThan(200);
      // loss curves: one line per head
      expect(await charts.nth(1).locator('g.mark-line path').count()).toBe(3);
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'sweep-report.png'), fullPage: true });
      expect(fs.statSync(path.join(ARTIFACTS, 'sweep-report.png')).size).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });
});
