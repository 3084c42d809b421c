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

/** Callback plugin: observes training (progress bars, logs). All hooks optional. */
export interface Callback {
  onTrainStart?(info: TrainStartInfo): void | Promise<void>;
  onStepEnd?(report: StepReport): void | Promise<void>;
  onEpochEnd?(report: EpochReport): void | Promise<void>;
  onEvalStart?(what: string): void | Promise<void>;
  onTrainEnd?(result: { loss: number; steps: number; seconds: number; eval: Record<string, number> }): void | Promise<void>;
}
