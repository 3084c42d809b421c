export { SweepSpecSchema, type SweepSpec } from './spec.js';
export { expandTrials, axesLabel, type TrialPoint } from './expand.js';
export { canonicalJson, configHash } from './hash.js';
export { planSweep, loadSweepSpec, sweepSchema, type PlannedTrial, type SweepPlan } from './plan.js';
export { SweepStore, STORE_FILE, type TrialRow, type TrialOutcome, type TrialStatus, type TrialCommitExtra } from './store.js';
export { summarize, formatStat, formatValue, stat, type GroupSummary, type Stat } from './summary.js';
export { buildReport, writeReport, type SweepReport } from './report.js';
