import type { ResolvedConfig } from '../config/experiment.js';
import { resolveScheduledPath } from '../config/validate.js';
import type { Progress, Schedule } from '../contracts/schedule.js';
import type { PluginContext } from '../plugin/definition.js';
import type { PluginRegistry } from '../plugin/registry.js';

/** One scheduled option of one plugin instance. */
interface Scheduled {
  key: string;
  options: Record<string, unknown>;
  option: string;
  from: number;
  to: number;
  schedule: Schedule;
}

/**
 * The config's `schedules`: before every step, each scheduled option is written into its plugin's
 * options object as `to + (from - to) * multiplier(progress)`, `from` being the configured value.
 * `values()` gives the current values (logged, and kept in checkpoints for inspection; on resume
 * they are recomputed from the step, so they resume exactly).
 */
export class ScalarSchedules {
  private constructor(private readonly entries: Scheduled[]) {}

  /** `instanceAt(slot)` is the plugin instance at a resolved slot path (`['tasks', 'main', 'target']`). */
  static async build(
    config: ResolvedConfig,
    registry: PluginRegistry,
    instanceAt: (slot: string[]) => object | undefined,
    ctx: (path: string) => PluginContext,
  ): Promise<ScalarSchedules> {
    const entries: Scheduled[] = [];
    for (const [key, entry] of Object.entries(config.schedules)) {
      const r = resolveScheduledPath(config, key);
      if (typeof r === 'string') throw new Error(r); // validateConfig reported it already
      const instance = instanceAt(r.slot);
      const options = instance && registry.optionsOf(instance);
      if (!options) throw new Error(`schedules: no plugin instance at ${r.slot.join('.')}`);
      const schedule = await registry.create('schedule', entry.schedule, ctx(`/schedules/${key}/schedule`));
      entries.push({ key, options, option: r.option, from: Number(options[r.option]), to: entry.to, schedule });
    }
    return new ScalarSchedules(entries);
  }

  apply(progress: Progress): void {
    for (const e of this.entries) e.options[e.option] = e.to + (e.from - e.to) * e.schedule.value(progress);
  }

  values(): Record<string, number> {
    return Object.fromEntries(this.entries.map((e) => [e.key, Number(e.options[e.option])]));
  }
}
