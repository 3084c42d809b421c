import { describe, expect, it } from 'vitest';
import { trialCheck, type CheckedJob } from '../../cli/queue/trial-check.js';

// The coordinator's check of one trial's job, against a fake queue whose answers the test releases
// one at a time, so the overlaps that happen in a real sweep happen here on purpose.
class FakeJob implements CheckedJob {
  removed = false;
  constructor(public state: string) {}
  async getState() {
    return this.state;
  }
  async remove() {
    this.removed = true;
  }
}

function setup(jobs: Map<string, FakeJob>, failedBefore: string[] = []) {
  const outstanding = new Set(['a', 'b']);
  const gates: Array<() => void> = [];
  const enqueued: Array<{ hash: string; again: boolean; fresh: boolean }> = [];
  const collected: string[] = [];
  let held = false;
  const check = trialCheck<FakeJob>({
    queue: {
      // while `held`, each getJob waits for the test to release it
      getJob: (id) => (held ? new Promise((r) => gates.push(() => r(jobs.get(id)))) : Promise.resolve(jobs.get(id))),
    },
    outstanding,
    failedBefore: new Set(failedBefore),
    collect: async (job, state) => {
      const hash = [...jobs].find(([, j]) => j === job)![0];
      collected.push(`${hash}:${state}`);
      outstanding.delete(hash);
      jobs.delete(hash);
      await job.remove();
    },
    enqueue: async (hash, o) => {
      enqueued.push({ hash, ...o });
      jobs.set(hash, new FakeJob('waiting'));
    },
  });
  return { check, outstanding, gates, enqueued, collected, hold: (h: boolean) => (held = h) };
}

describe('the coordinator checks a trial’s job', () => {
  it('a poll that waits on Redis while the completed event stores the trial does not enqueue it again', async () => {
    const jobs = new Map([['a', new FakeJob('completed')]]);
    const s = setup(jobs);
    s.hold(true);
    const poll = s.check('a', false); // the poll asks Redis for a's job…
    expect(s.gates).toHaveLength(1);
    s.hold(false);
    await s.check('b', true); // (b is missing at the start: enqueued once, not "again")
    // …and the 'completed' event's check cannot start beside it: one check per trial at a time
    await s.check('a', false);
    expect(s.collected).toEqual([]);
    // meanwhile a is stored and its job removed (the event path of a real sweep)
    s.outstanding.delete('a');
    jobs.delete('a');
    s.gates.shift()!(); // the poll's answer: no job
    await poll;
    expect(s.enqueued).toEqual([{ hash: 'b', again: false, fresh: false }]);
  });

  it('a finished job is collected once; a job the queue lost is enqueued again once, even by overlapping checks', async () => {
    const jobs = new Map([['a', new FakeJob('completed')]]);
    const s = setup(jobs);
    await Promise.all([s.check('a', false), s.check('a', false)]);
    expect(s.collected).toEqual(['a:completed']);
    await s.check('a', false); // stored: nothing more to do
    expect(s.enqueued).toEqual([]);
    s.hold(true);
    const one = s.check('b', false);
    const two = s.check('b', false);
    expect(s.gates).toHaveLength(1); // the second check did not ask Redis
    s.hold(false);
    s.gates.shift()!();
    await Promise.all([one, two]);
    expect(s.enqueued).toEqual([{ hash: 'b', again: true, fresh: false }]);
    await s.check('b', false); // now waiting in the queue: left alone
    expect(s.enqueued).toHaveLength(1);
  });

  it('--retry-failed: a failed job of an earlier run is replaced by a fresh one at the start, and collected as failed later', async () => {
    const old = new FakeJob('failed');
    const jobs = new Map([['a', old]]);
    const s = setup(jobs, ['a']);
    await s.check('a', true);
    expect(old.removed).toBe(true);
    expect(s.enqueued).toEqual([{ hash: 'a', again: false, fresh: true }]);
    jobs.get('a')!.state = 'failed';
    await s.check('a', false);
    expect(s.collected).toEqual(['a:failed']);
  });
});
