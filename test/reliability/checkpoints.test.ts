import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataError, EnvironmentError, readCheckpoint, runExperiment, writeAtomic } from '../../cli/api.js';
import { tinySimclr, useBackend } from '../helpers.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-ckpt-'));
const tiny = () => tinySimclr({ train: { epochs: 1, batchSize: 16, checkpointEvery: 1 } });

describe('checkpoints are verified on read, and write failures name the file', () => {
  beforeAll(() => useBackend('cpu'));

  it('a truncated weight file, a damaged checkpoint.json, a missing weight file and a flipped byte are DataErrors naming the file', async () => {
    const dir = tmp();
    await runExperiment(tiny(), { outDir: dir });
    const weights = path.join(dir, 'weights-4.bin');
    const json = path.join(dir, 'checkpoint.json');
    const meta = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(meta.weightsBytes).toBe(fs.statSync(weights).size);
    expect(meta.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
    const good = fs.readFileSync(weights);
    const expectError = (pattern: RegExp) => {
      const err = (() => {
        try {
          readCheckpoint(dir);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(DataError);
      expect(String(err)).toMatch(pattern);
    };
    fs.writeFileSync(weights, good.subarray(0, 1000));
    expectError(/weights-4\.bin is truncated or damaged: 1000 bytes where .*checkpoint\.json records \d+/);
    const flipped = Buffer.from(good);
    flipped[17] ^= 0xff;
    fs.writeFileSync(weights, flipped);
    expectError(/weights-4\.bin is damaged: its SHA-256 differs/);
    fs.rmSync(weights);
    expectError(/the weight file .*weights-4\.bin that .*checkpoint\.json names is missing/);
    fs.writeFileSync(weights, good);
    const text = fs.readFileSync(json, 'utf8');
    fs.writeFileSync(json, text.slice(0, 3000));
    expectError(/checkpoint\.json is damaged \(.*JSON.*\): the run cannot be resumed or evaluated from it/);
    fs.writeFileSync(json, text);
    expect(readCheckpoint(dir).meta.step).toBe(4); // intact again
    await expect(runExperiment('', { resume: dir, sets: ['train.maxSteps=1000'] })).resolves.toBeDefined();
  });

  it('a write that fails removes its temp file and is an EnvironmentError naming the file; the old file is kept', () => {
    const dir = tmp();
    const file = path.join(dir, 'result.json');
    writeAtomic(file, 'old');
    fs.mkdirSync(path.join(dir, 'blocked'));
    const target = path.join(dir, 'blocked', 'x.json');
    fs.chmodSync(path.join(dir, 'blocked'), 0o500); // no write permission (root ignores it: then the write succeeds)
    let err: unknown;
    try {
      writeAtomic(target, 'new');
    } catch (e) {
      err = e;
    }
    fs.chmodSync(path.join(dir, 'blocked'), 0o700);
    if (err === undefined) {
      expect(process.getuid?.()).toBe(0); // only root writes into a read-only directory
    } else {
      expect(err).toBeInstanceOf(EnvironmentError);
      expect((err as EnvironmentError).exitCode).toBe(5);
      expect(String(err)).toMatch(/cannot write \(.*blocked\/x\.json\): permission denied \(EACCES\)/);
    }
    expect(fs.readdirSync(path.join(dir, 'blocked')).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // a target that is a directory: the rename fails, the temp file goes, the directory stays
    fs.mkdirSync(path.join(dir, 'adir'));
    expect(() => writeAtomic(path.join(dir, 'adir'), 'x')).toThrow(/cannot write \(.*adir\): it is a directory \(EISDIR\)/);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
  });
});

describe('the checkpoint before the last one is kept and offered', () => {
  beforeAll(() => useBackend('cpu'));

  it('a damaged last checkpoint names the intact previous one; --previous continues from it exactly as the uninterrupted run', async () => {
    const cfg = tinySimclr({ train: { epochs: 3, batchSize: 16, checkpointEvery: 1 } });
    const full = await runExperiment(cfg, {});
    const dir = tmp();
    await runExperiment(cfg, { outDir: dir });
    // two generations: the last (step 12) and the one before (step 8) with their weight files; step 4's is gone
    expect(
      fs
        .readdirSync(dir)
        .filter((f) => f.startsWith('weights-') || f.startsWith('checkpoint'))
        .sort(),
    ).toEqual(['checkpoint-previous.json', 'checkpoint.json', 'weights-12.bin', 'weights-8.bin']);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint-previous.json'), 'utf8')).step).toBe(8);
    // damage the last one's weights
    const w12 = path.join(dir, 'weights-12.bin');
    fs.writeFileSync(w12, fs.readFileSync(w12).subarray(0, 100));
    let err: unknown;
    try {
      readCheckpoint(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataError);
    expect(String(err)).toMatch(
      /weights-12\.bin is truncated or damaged.*the checkpoint before it, step 8 \(epoch 2\), is intact: continue from it with --resume .* --previous/,
    );
    // continue from it: the same losses as the uninterrupted run from step 8
    const resumed = await runExperiment('', { resume: dir, previous: true, sets: ['train.maxSteps=1000'] });
    expect(resumed.losses).toEqual(full.losses.slice(8));
    // and the directory is whole again: the new last checkpoint (step 12) and the one it continued from (step 8)
    expect(readCheckpoint(dir).meta.step).toBe(12);
    expect(readCheckpoint(dir, { previous: true }).meta.step).toBe(8);
  });

  it('a new run over an old one (--force) keeps no previous checkpoint of the old run', async () => {
    const dir = tmp();
    await runExperiment(tinySimclr({ train: { epochs: 2, batchSize: 16, checkpointEvery: 1 } }), { outDir: dir });
    expect(fs.existsSync(path.join(dir, 'checkpoint-previous.json'))).toBe(true);
    await runExperiment(tinySimclr({ seed: 3, train: { epochs: 1, batchSize: 16, checkpointEvery: 1 } }), { outDir: dir, force: true });
    expect(fs.existsSync(path.join(dir, 'checkpoint-previous.json'))).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('weights-'))).toEqual(['weights-4.bin']);
    expect(readCheckpoint(dir).meta.config.seed).toBe(3);
  });
});
