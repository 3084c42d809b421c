import { describe, expect, it } from 'vitest';
import { resolveExperiment } from '../../cli/api.js';

describe('config messages a person reads', () => {
  it('a value outside a union of constants lists the allowed values, once', async () => {
    const err = await resolveExperiment('simclr', { sets: ['encoder={"type":"resnet","depth":19}'] }).catch((e) => e);
    expect(err.problems).toEqual([{ path: '/encoder/depth', message: '19 is not allowed', hint: 'allowed: 18, 34, 50' }]);
    const typo = await resolveExperiment('simclr', { sets: ['negatives.branch=targt'] }).catch((e) => e);
    expect(typo.problems).toEqual([
      { path: '/negatives/branch', message: '"targt" is not allowed', hint: `did you mean 'target'? allowed: "online", "target"` },
    ]);
    // an enum of strings: the guess and the whole list
    const backend = await resolveExperiment('simclr', { sets: ['backend=gpux'] }).catch((e) => e);
    expect(backend.problems).toHaveLength(1);
    expect(backend.problems[0]).toMatchObject({ path: '/backend', message: "'gpux' is not allowed" });
    expect(backend.problems[0].hint).toMatch(/^did you mean 'cpu'\? allowed: .*auto.*tensorflow.*webgpu.*wasm.*cpu/);
  });

  it('a problem in a --set value is reported as coming from --set, not from a file the user did not touch', async () => {
    await expect(resolveExperiment('simclr', { sets: ['loss.temperature=-1'] })).rejects.toThrow(
      /invalid config in .*simclr\.json with --set loss\.temperature:\n {2}\/loss\/temperature: must be > 0/,
    );
  });
});
