import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, runExperiment } from '../../cli/api.js';
import { fingerprint, metricRecords, tinySimclr, useBackend } from '../helpers.js';

const BIN = path.resolve('dist/cli/main.js');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-rel-'));
const tiny = (extra: Record<string, unknown> = {}) => tinySimclr({ train: { epochs: 1, batchSize: 16, checkpointEvery: 1 }, ...extra });

describe('run directories: a run never lands on another one, and deletes only its own files', () => {
  beforeAll(() => useBackend('cpu'));

  it('a directory holding a run is refused (exit 2 from the CLI), and its files stay byte-identical', async () => {
    const dir = tmp();
    await runExperiment(tiny(), { outDir: dir });
    const before = fingerprint(dir);
    expect(Object.keys(before).sort()).toEqual(['checkpoint.json', 'metrics.jsonl', 'result.json', 'weights-4.bin']);
    await expect(runExperiment(tiny(), { outDir: dir })).rejects.toThrow(/already holds a run.*continue it with --resume/s);
    const cfg = path.join(tmp(), 'tiny.json');
    fs.writeFileSync(cfg, JSON.stringify(tiny()));
    const r = spawnSync(process.execPath, [BIN, 'train', '--preset', cfg, '--out', dir], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/already holds a run/);
    expect(fingerprint(dir)).toEqual(before);
  });

  it('a non-empty directory that is not a run is refused; with force the run writes its files and leaves the others alone', async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    fs.writeFileSync(path.join(dir, 'weights-7.bin'), 'also mine');
    await expect(runExperiment(tiny(), { outDir: dir })).rejects.toThrow(/is not empty and holds no selfsup run \(notes\.txt, weights-7\.bin\)/);
    await runExperiment(tiny(), { outDir: dir, force: true });
    expect(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(fs.readFileSync(path.join(dir, 'weights-7.bin'), 'utf8')).toBe('also mine'); // not the run's: kept
    expect(fs.existsSync(path.join(dir, 'weights-4.bin'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'run.lock'))).toBe(false); // released
  });

  it('force over a run starts a new metrics.jsonl and replaces the old checkpoint (whose weight file it removes)', async () => {
    const dir = tmp();
    await runExperiment(tiny({ train: { epochs: 2, batchSize: 16, checkpointEvery: 1 } }), { outDir: dir });
    expect(fs.existsSync(path.join(dir, 'weights-8.bin'))).toBe(true);
    await runExperiment(tiny(), { outDir: dir, force: true });
    const lines = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).epoch)).toEqual([1]);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('weights-'))).toEqual(['weights-4.bin']);
  });

  it('/ and the home directory are refused; a live lock keeps a second process out', async () => {
    await expect(runExperiment(tiny(), { outDir: '/' })).rejects.toThrow(/refusing to write a run into \//);
    await expect(runExperiment(tiny(), { outDir: os.homedir(), force: true })).rejects.toThrow(/refusing to write a run into/);
    const dir = tmp();
    const holder = spawn('sleep', ['60']); // a live process other than this one
    fs.writeFileSync(path.join(dir, 'run.lock'), String(holder.pid));
    await expect(runExperiment(tiny(), { outDir: dir })).rejects.toThrow(/another training run \(pid \d+\) is using/);
    holder.kill();
    fs.writeFileSync(path.join(dir, 'run.lock'), '999999999'); // a dead process: taken over
    await runExperiment(tiny(), { outDir: dir });
    expect(fs.existsSync(path.join(dir, 'checkpoint.json'))).toBe(true);
  });

  it('resuming a run already at its maxSteps is refused and changes nothing (no extra step)', async () => {
    const dir = tmp();
    await runExperiment(tiny({ train: { epochs: 3, batchSize: 16, checkpointEvery: 1, maxSteps: 6 } }), { outDir: dir });
    const before = fingerprint(dir);
    const err = await runExperiment('', { resume: dir }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String(err)).toMatch(/already at step 6, its budget \(train\.maxSteps=6\): nothing to resume \(raise it, e\.g\. --set train\.maxSteps=12\)/);
    expect(fingerprint(dir)).toEqual(before);
  });

  it('a run stopped inside an epoch and resumed writes the same epoch records as the uninterrupted run', async () => {
    const full = tmp();
    await runExperiment(tinySimclr(), { outDir: full });
    const dir = tmp();
    await runExperiment(tinySimclr({ train: { epochs: 3, batchSize: 16, checkpointEvery: 1, maxSteps: 6 } }), { outDir: dir });
    await runExperiment('', { resume: dir, sets: ['train.maxSteps=1000'] });
    expect(metricRecords(dir, 'epoch')).toEqual(metricRecords(full, 'epoch'));
    expect(metricRecords(dir, 'epoch').map((r) => r.step)).toEqual([4, 8, 12]);
    expect(metricRecords(dir, 'partial-epoch').map((r) => [r.epoch, r.step])).toEqual([[2, 6]]);
  });
});
