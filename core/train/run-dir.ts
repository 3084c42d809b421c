import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, asEnvironmentError } from '../errors.js';
import { acquireLock } from '../util/lock.js';
import { makeDirs } from '../util/make-dirs.js';
import { CHECKPOINT_FILE, PREVIOUS_CHECKPOINT_FILE } from './checkpoint.js';

/** The lock file of a training run's directory. */
export const RUN_LOCK = 'run.lock';

/**
 * Claim `dir` for a training run before anything is written: a run never lands on another one.
 * - a new or empty directory: taken;
 * - with `resume`: it must hold the run's checkpoint;
 * - a directory holding a run (`checkpoint.json`), or anything else: refused unless `force` (which
 *   starts a new run there: the run's own files are replaced, nothing else is touched);
 * - `/` and the home directory: always refused.
 * One process at a time (`run.lock`, taken over from a process that died). Returns the release function.
 */
export function claimRunDir(dir: string, opts: { resume?: boolean; force?: boolean } = {}): () => void {
  const abs = path.resolve(dir);
  if (abs === path.parse(abs).root || abs === os.homedir()) {
    throw new ConfigError([{ path: '', message: `refusing to write a run into ${abs}`, hint: 'give the run a directory of its own, e.g. --out runs/my-run' }]);
  }
  if (fs.existsSync(abs) && !fs.statSync(abs).isDirectory())
    throw new ConfigError([{ path: '', message: `${abs} is a file, not a directory`, hint: 'choose another --out' }]);
  const entries = fs.existsSync(abs) ? fs.readdirSync(abs).filter((f) => f !== RUN_LOCK) : [];
  const holdsRun = entries.includes(CHECKPOINT_FILE) || entries.includes(PREVIOUS_CHECKPOINT_FILE);
  if (opts.resume) {
    if (!holdsRun)
      throw new ConfigError([{ path: '', message: `${abs} holds no run to resume (no ${CHECKPOINT_FILE})`, hint: 'pass the --out directory of a run' }]);
  } else if (entries.length > 0 && !opts.force) {
    const message = holdsRun
      ? `${abs} already holds a run`
      : `${abs} is not empty and holds no selfsup run (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''})`;
    const hint = holdsRun
      ? `continue it with --resume ${dir}, or choose another --out; --force starts a new run over it`
      : 'choose a new or empty directory; --force writes the run into it anyway (only the run files are replaced)';
    throw new ConfigError([{ path: '', message, hint }]);
  }
  if (!fs.existsSync(abs) && fs.lstatSync(abs, { throwIfNoEntry: false })?.isSymbolicLink())
    throw new ConfigError([
      { path: '', message: `${abs} is a symbolic link to ${fs.readlinkSync(abs)}, which does not exist`, hint: 'create its target, or choose another --out' },
    ]);
  try {
    makeDirs(abs);
    return acquireLock(abs, RUN_LOCK, 'training run');
  } catch (e) {
    throw asEnvironmentError(e, 'claim the run directory', abs);
  }
}
