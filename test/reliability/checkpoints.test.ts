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
