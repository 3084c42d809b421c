import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError, packTar, readCheckpoint, saveCheckpoint, tf, unpackTar, type ResolvedConfig } from '../../../core/index.js';

// A checkpoint as one .tar (what the browser playground downloads) reads as its directory does.
describe('a checkpoint in a tar', () => {
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-ckpt-tar-'));

  it('packTar and unpackTar round-trip files of any length; tar(1) lists and extracts the same bytes', async () => {
    const files = [
      { name: 'checkpoint.json', data: new TextEncoder().encode('{"a":1}') },
      { name: 'weights-3.bin', data: Uint8Array.from({ length: 1500 }, (_, i) => (i * 7) % 256) },
      { name: 'empty', data: new Uint8Array(0) },
    ];
    const tar = packTar(files);
    expect(tar.length % 512).toBe(0);
    const back = unpackTar(tar);
    expect([...back.keys()]).toEqual(['checkpoint.json', 'weights-3.bin', 'empty']);
    for (const f of files) expect(Buffer.from(back.get(f.name)!).equals(Buffer.from(f.data))).toBe(true);
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'x.tar'), tar);
    const { execFileSync } = await import('node:child_process');
    expect(execFileSync('tar', ['-tf', 'x.tar'], { cwd: dir, encoding: 'utf8' }).trim().split('\n')).toEqual(['checkpoint.json', 'weights-3.bin', 'empty']);
    execFileSync('tar', ['-xf', 'x.tar'], { cwd: dir });
    expect(fs.readFileSync(path.join(dir, 'weights-3.bin')).equals(Buffer.from(files[1].data))).toBe(true);
    // a flipped byte in a header is caught by its checksum
    const bad = tar.slice();
    bad[10] ^= 1;
    expect(() => unpackTar(bad, 'bad.tar')).toThrow(/bad.tar is not a tar archive or is damaged/);
  });

  it('readCheckpoint of a tar of a run directory gives the directory’s record and weights; a damaged weight file is named', async () => {
    const dir = tmp();
    const v = tf.variable(tf.tensor2d([1, 2, 3, 4.5], [2, 2]), true, 'w');
    const config = { name: 'x' } as unknown as ResolvedConfig;
    await saveCheckpoint(dir, { step: 7, epoch: 1, rng: { s: 1 }, config, backend: 'cpu', history: [] }, new Map([['encoder/w', v]]));
    const fromDir = readCheckpoint(dir);
    const names = ['checkpoint.json', fromDir.meta.weights];
    const tar = path.join(dir, 'run.tar');
    fs.writeFileSync(tar, packTar(names.map((n) => ({ name: n, data: fs.readFileSync(path.join(dir, n)) }))));
    const fromTar = readCheckpoint(tar);
    expect(fromTar.meta).toEqual(fromDir.meta);
    expect(Array.from(fromTar.values)).toEqual([1, 2, 3, 4.5]);
    const weights = Buffer.from(fs.readFileSync(path.join(dir, fromDir.meta.weights)));
    weights[0] ^= 1;
    fs.writeFileSync(
      tar,
      packTar([
        { name: names[0], data: fs.readFileSync(path.join(dir, names[0])) },
        { name: names[1], data: weights },
      ]),
    );
    expect(() => readCheckpoint(tar)).toThrow(DataError);
    expect(() => readCheckpoint(tar)).toThrow(`${tar}:${names[1]} is damaged: its SHA-256 differs`);
    v.dispose();
  });
});
