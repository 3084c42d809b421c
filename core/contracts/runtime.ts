/** What `Backend.init` reports. */
export interface BackendInfo {
  name: string;
  /** human-readable details: SIMD, threads, device */
  details?: string;
}

/**
 * Backend plugin: a TensorFlow.js backend. `probe` says whether it can load here (and why not);
 * `init` registers and activates it, plus any kernels selfsup supplies for it.
 */
export interface Backend {
  /** higher wins under `auto` */
  readonly priority: number;
  probe(): Promise<{ ok: true } | { ok: false; reason: string }>;
  init(): Promise<BackendInfo>;
}

export interface StepReport {
  step: number;
  epoch: number;
  totalSteps: number;
  stepsPerEpoch: number;
  loss: number;
  /** the losses' named terms (VICReg's invariance, variance, covariance) */
  terms: Record<string, number>;
  /** the collapse monitor (`z_std`) and other per-step statistics */
  monitor: Record<string, number>;
  lr: number;
  viewsPerSecond: number;
  elapsedSeconds: number;
}

export interface EpochReport {
  epoch: number;
  step: number;
  loss: number;
  seconds: number;
  metrics: Record<string, number>;
}

export interface TrainStartInfo {
  name: string;
  backend: string;
  totalSteps: number;
  stepsPerEpoch: number;
  startStep: number;
  epochs: number;
  outDir?: string;
  parameters: number;
}

/** What a callback may read of the run at an epoch's end (see `RunParts`). */
export interface RunView {
  tasks: Array<{ name: string; augmenter: import('./augmenter.js').Augmenter; branch: import('./modules.js').Branch }>;
  data: import('./data.js').LoadedDataset;
}

/** Callback plugin: observes training (progress bars, logs). All hooks optional. */
export interface Callback {
  onTrainStart?(info: TrainStartInfo): void | Promise<void>;
  onStepEnd?(report: StepReport): void | Promise<void>;
  /** `run` gives read access to the model, tasks and data (pictures, custom probes) */
  onEpochEnd?(report: EpochReport, run: RunView): void | Promise<void>;
  onEvalStart?(what: string): void | Promise<void>;
  onTrainEnd?(result: { loss: number; steps: number; seconds: number; eval: Record<string, number> }): void | Promise<void>;
}
