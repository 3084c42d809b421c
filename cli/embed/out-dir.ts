import fs from 'node:fs';
import path from 'node:path';
import { SelfsupError, asEnvironmentError } from '../../core/index.js';

/**
 * A directory written as a whole: files go into a staging directory beside `out`, which replaces
 * `out` by a rename once every file is written. A run that fails leaves `out` as it was. An existing
 * non-empty `out` is refused without `force`, and a run directory (one holding checkpoint.json)
 * always.
 */
export class StagedDir {
  readonly staging: string;

  private constructor(readonly out: string) {
    this.staging = `${out}.tmp-${process.pid}-${Date.now()}`;
  }

  /** Check `out` may be written, before any work is done. */
  static check(out: string, force?: boolean): void {
    if (!fs.existsSync(out)) return;
    if (!fs.statSync(out).isDirectory()) throw new SelfsupError(`${out} exists and is not a directory: give another --out`, 2);
    if (fs.readdirSync(out).length === 0) return;
    if (fs.existsSync(path.join(out, 'checkpoint.json')))
      throw new SelfsupError(`${out} holds a run (checkpoint.json): it is never replaced; give another --out, such as ${path.join(out, 'embed')}`, 2);
    if (!force) throw new SelfsupError(`${out} exists and is not empty: give another --out, or --force to replace it`, 2);
  }

  static open(out: string, force?: boolean): StagedDir {
    const abs = path.resolve(out);
    StagedDir.check(abs, force);
    const d = new StagedDir(abs);
    try {
      fs.mkdirSync(d.staging, { recursive: true });
    } catch (e) {
      throw asEnvironmentError(e, 'create', d.staging);
    }
    return d;
  }

  file(name: string): string {
    return path.join(this.staging, name);
  }

  /** Put the staged files in place of `out` (checked again: another process may have written it meanwhile). */
  commit(force?: boolean): void {
    StagedDir.check(this.out, force);
    const old = `${this.out}.old-${process.pid}-${Date.now()}`;
    try {
      if (fs.existsSync(this.out)) fs.renameSync(this.out, old);
      fs.renameSync(this.staging, this.out);
    } catch (e) {
      if (!fs.existsSync(this.out) && fs.existsSync(old)) fs.renameSync(old, this.out);
      throw asEnvironmentError(e, 'write', this.out);
    }
    fs.rmSync(old, { recursive: true, force: true });
  }

  discard(): void {
    fs.rmSync(this.staging, { recursive: true, force: true });
  }
}
