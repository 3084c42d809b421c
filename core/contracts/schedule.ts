/** Where training stands; schedules and targets read it. */
export interface Progress {
  /** optimizer steps done so far (0 before the first) */
  step: number;
  totalSteps: number;
  epoch: number;
  stepsPerEpoch: number;
}

/** Schedule plugin: a multiplier of the base value (learning rate) at a point of training. */
export interface Schedule {
  value(p: Progress): number;
}
