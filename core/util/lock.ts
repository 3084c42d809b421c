import fs from 'node:fs';
import path from 'node:path';
import { EnvironmentError, SelfsupError } from '../errors.js';

/** Whether process `pid` exists (EPERM: it does, another user's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One process per directory: `<dir>/<file>` holds the owner's pid (created exclusively). A lock left
 * by a process that no longer exists (killed) is taken over; a live one is an error naming `what`
 * (`sweep runner`, `training run`, exit 5). Returns the release function, which also runs when the
 * process exits (an error's exit code, a second Ctrl-C), so no lock of a live-looking pid is left.
 */
export function acquireLock(dir: string, file = 'sweep.lock', what = 'sweep runner'): () => void {
  const lock = path.join(dir, file);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      const release = () => {
        process.off('exit', release);
        fs.rmSync(lock, { force: true });
      };
      process.on('exit', release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(lock, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new EnvironmentError(`another ${what} (pid ${pid}) is using ${dir}; wait for it or stop it first`);
      }
      fs.rmSync(lock, { force: true });
    }
  }
  throw new SelfsupError(`cannot lock ${dir}`, 1);
}
