import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExperiment } from '../../cli/api.js';
import { removeStaleTempDirs } from '../../core/engine/index.js';
import { metricRecords, tinySimclr } from '../helpers.js';

const BIN = path.resolve('dist/cli/main.js');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-sig-'));

/** Start `selfsup train`, send `signal` once it has made a few steps; resolve with its exit code and stderr. */
function trainAndSignal(cfg: string, out: string, signal: 'SIGINT' | 'SIGTERM'): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'train', '--preset', cfg, '--out', out, '--backend', 'cpu'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    let sent = false;
    child.stderr.on('data', (d) => {
      err += String(d);
      // progress lines on a non-TTY: "step N/..."; signal after step 10
      const m = [...err.matchAll(/step (\d+)\//g)].at(-1);
      if (!sent && m && Number(m[1]) >= 10) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on('exit', (code) => resolve({ code, err }));
  });
}

describe('signals: SIGINT and SIGTERM checkpoint, say where to resume, and exit 130 / 143', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s: exit %i, the message names the step and the resume command, and the resumed run equals the uninterrupted one', async (signal, code) => {
    const cfg = path.join(tmp(), 'tiny.json');
    const config = tinySimclr({ backend: 'cpu', train: { epochs: 6, batchSize: 16, checkpointEvery: 1 }, callbacks: [{ type: 'progress', every: 1 }] });
    fs.writeFileSync(cfg, JSON.stringify(config));
    const out = tmp();
    fs.rmSync(out, { recursive: true });
    const r = await trainAndSignal(cfg, out, signal);
    expect(r.code, r.err).toBe(code);
    expect(r.err).toMatch(
      new RegExp(
        `interrupted \\(${signal}\\) at step \\d+ \\(epoch \\d+\\): the last checkpoint is in ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; resume with: selfsup train --resume`,
      ),
    );
    const step = Number(/at step (\d+)/.exec(r.err)![1]);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'checkpoint.json'), 'utf8')).step).toBe(step);
    expect(fs.existsSync(path.join(out, 'run.lock'))).toBe(false);
    await runExperiment('', { resume: out });
    const full = tmp();
    await runExperiment(config, { outDir: full });
    expect(metricRecords(out)).toEqual(metricRecords(full));
  });

  it('stale selfsup-wasm temp directories of dead processes are removed; those of live ones are kept', () => {
    const dir = tmp();
    const live = spawn('sleep', ['30']);
    fs.mkdirSync(path.join(dir, `selfsup-wasm-${live.pid}-abc`));
    fs.mkdirSync(path.join(dir, 'selfsup-wasm-999999999-def'));
    fs.mkdirSync(path.join(dir, 'other-999999999-x'));
    expect(removeStaleTempDirs(dir)).toBe(1);
    expect(fs.readdirSync(dir).sort()).toEqual(['other-999999999-x', `selfsup-wasm-${live.pid}-abc`]);
    live.kill();
  });
});
