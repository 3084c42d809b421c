/** Where training stands; schedules, losses and targets read it. */
export interface Progress {
  /** optimizer steps done so far (0 before the first) */
  step: number;
  totalSteps: number;
  epoch: number;
  stepsPerEpoch: number;
  /** `step / totalSteps`, in [0, 1] */
  fraction: number;
}

/** Progress at `step` of a run of `totalSteps` steps. */
export function progressAt(step: number, totalSteps: number, stepsPerEpoch: number): Progress {
  return { step, totalSteps, stepsPerEpoch, epoch: Math.floor(step / stepsPerEpoch), fraction: totalSteps > 0 ? Math.min(1, step / totalSteps) : 1 };
}

/**
 * Schedule plugin: a multiplier at a point of training. The learning rate is `optimizer.lr` times
 * it; any other scheduled value (`schedules` in the config) goes from its configured value (at 1)
 * to the entry's `to` (at 0).
 */
export interface Schedule {
  value(p: Progress): number;
}
