import fs from 'node:fs';
import path from 'node:path';
import { SelfsupError } from '../../core/index.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * One runner per sweep directory: `sweep.lock` holds the runner's pid. A lock left by a runner that
 * no longer exists (killed) is taken over; a live one is an error.
 */
export function acquireLock(dir: string): () => void {
  const file = path.join(dir, 'sweep.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(file, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new SelfsupError(`another sweep runner (pid ${pid}) is using ${dir}; wait for it or stop it first`, 1);
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new SelfsupError(`cannot lock ${dir}`, 1);
}
