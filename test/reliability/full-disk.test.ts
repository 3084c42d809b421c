import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentError, runExperiment } from '../../cli/api.js';
import { fingerprint, tinySimclr, useBackend } from '../helpers.js';

/** A 400 KB tmpfs, where mounting is permitted (root, as in CI); otherwise the test is skipped with the reason. */
const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-fulldisk-'));
const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=400k', 'tmpfs', mountPoint], { encoding: 'utf8' });
const mounted = mount.status === 0;
if (!mounted)
  console.log(`full-disk test skipped: cannot mount a tmpfs here (${(mount.stderr || mount.error?.message || '').trim() || `exit ${mount.status}`})`);

describe.skipIf(!mounted)('a full disk', () => {
  beforeAll(() => useBackend('cpu'));
  afterAll(() => {
    spawnSync('umount', [mountPoint]);
    fs.rmSync(mountPoint, { recursive: true, force: true });
  });

  it('a checkpoint that does not fit is an environment error (exit 5) naming the directory; the last good checkpoint stays byte-identical', async () => {
    const dir = path.join(mountPoint, 'run');
    await runExperiment(tinySimclr({ train: { epochs: 3, batchSize: 16, checkpointEvery: 1, maxSteps: 4 } }), { outDir: dir });
    const before = fingerprint(dir);
    const { bavail, bsize } = fs.statfsSync(mountPoint);
    // 32 KB left: room for the lock and the metrics, not for a checkpoint (its size plus a 64 KB margin)
    fs.writeFileSync(path.join(mountPoint, 'filler'), Buffer.alloc(Math.max(0, bavail * bsize - 32 * 1024)));
    const err = await runExperiment('', { resume: dir, sets: ['train.maxSteps=1000'] }).catch((e) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect(err.exitCode).toBe(5);
    expect(String(err)).toMatch(
      /(not enough space to write a checkpoint in .*run: .* MB needed, .* MB free; the previous checkpoint \(weights-4\.bin\) is kept|no space left on the device \(ENOSPC\))/,
    );
    const after = fingerprint(dir);
    expect(after['checkpoint.json']).toBe(before['checkpoint.json']);
    expect(after['weights-4.bin']).toBe(before['weights-4.bin']);
    expect(Object.keys(after).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // room again: the run resumes from that checkpoint and completes
    fs.rmSync(path.join(mountPoint, 'filler'));
    const r = await runExperiment('', { resume: dir, sets: ['train.maxSteps=1000'] });
    expect(r.steps).toBe(12);
  });
});
