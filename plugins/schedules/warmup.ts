/**
 * The linear warm-up the schedules share: step `step` (0-based) of a warm-up of `warmSteps` steps
 * (fractions allowed: `warmupEpochs x stepsPerEpoch`) gets (step+1)/warmSteps, at most 1, so no step
 * has lr 0 and none goes past the peak; undefined once the warm-up is over (or when there is none).
 */
export function warmupFactor(step: number, warmSteps: number): number | undefined {
  return warmSteps > 0 && step < warmSteps ? Math.min(1, (step + 1) / warmSteps) : undefined;
}
