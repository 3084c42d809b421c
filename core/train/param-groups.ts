import type { ParamGroup } from '../config/experiment.js';
import type { Optimizer, ParamHyper } from '../contracts/optimizer.js';
import type { Progress } from '../contracts/schedule.js';
import { ConfigError } from '../errors.js';
import type { Param } from '../nn/params.js';

/** A trainable parameter with its checkpoint key (`encoder/conv1.weight`, `tasks/main/head/fc1.weight`). */
export interface KeyedParam extends Param {
  key: string;
}

/** A glob over parameter keys as a RegExp: `*` within a segment, `**` across segments. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` matches zero or more whole segments; a trailing `**` anything
      const segments = glob[i + 2] === '/';
      re += segments ? '(?:.*/)?' : '.*';
      i += segments ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const matches = (g: ParamGroup, p: KeyedParam): boolean => {
  if (g.decay !== undefined && g.decay !== p.decay) return false;
  if (g.match === undefined) return true;
  const globs = Array.isArray(g.match) ? g.match : [g.match];
  return globs.some((m) => globToRegExp(m).test(p.key));
};

/**
 * The run's parameter groups: each trainable parameter's group (the first that matches it) and
 * what follows from it at each step. A group that matches no parameter is a config error that
 * shows what keys look like.
 */
export class ParamGroups {
  private readonly of = new Map<string, { group?: ParamGroup; decay: boolean }>();

  constructor(params: KeyedParam[], groups: ParamGroup[]) {
    for (const p of params) this.of.set(p.key, { group: groups.find((g) => matches(g, p)), decay: p.decay });
    groups.forEach((g, i) => {
      if (!params.some((p) => matches(g, p))) {
        const examples = params.slice(0, 3).map((p) => p.key);
        const modules = [...new Set(params.map((p) => p.key.split('/').slice(0, -1).join('/')))].slice(0, 6);
        throw new ConfigError([
          {
            path: `/paramGroups/${i}`,
            message: 'matches no trainable parameter',
            hint: `keys look like ${examples.join(', ')}; modules: ${modules.join(', ')}`,
          },
        ]);
      }
    });
  }

  groupOf(key: string): ParamGroup | undefined {
    return this.of.get(key)?.group;
  }

  /** the step at which a parameter starts to move (`frozenUntil`, `frozenEpochs`) */
  unfreezeStep(key: string, stepsPerEpoch: number): number {
    const g = this.groupOf(key);
    return g ? Math.max(g.frozenUntil, Math.ceil(g.frozenEpochs * stepsPerEpoch)) : 0;
  }

  /**
   * What the optimizer applies to each parameter at a step: the base learning rate times the
   * schedule's multiplier (unless the group is unscheduled) times the group's scale; the group's
   * weight decay, else the optimizer's for parameters that take decay; LARS adaptation likewise.
   */
  hyper(optimizer: Optimizer, multiplier: number): (key: string) => ParamHyper {
    const cache = new Map<string, ParamHyper>();
    return (key) => {
      let h = cache.get(key);
      if (!h) {
        const { group: g, decay } = this.of.get(key) ?? { decay: true };
        h = {
          lr: optimizer.lr * (g?.scheduled === false ? 1 : multiplier) * (g?.lrScale ?? 1),
          weightDecay: g?.weightDecay ?? (decay ? optimizer.weightDecay : 0),
          adapt: g?.lars ?? decay,
        };
        cache.set(key, h);
      }
      return h;
    };
  }

  /** Drop the gradients of parameters still frozen at this step: the optimizer then leaves them, and their slots, untouched. */
  dropFrozen(grads: Map<string, unknown>, progress: Progress): void {
    for (const key of [...grads.keys()]) if (progress.step < this.unfreezeStep(key, progress.stepsPerEpoch)) grads.delete(key);
  }
}
