import {
  BatchQueue,
  DEFAULT_PREFETCH,
  Rng,
  batchesOf,
  buildRun,
  evalOptionsOf,
  evalViewOf,
  extractFeatures,
  limitSet,
  umap2d,
  progressAt,
  randomWeightsBaseline,
  runEvaluators,
  checkpointRecord,
  restoreTensors,
  packTar,
  stateTensors,
  trainStep,
  CHECKPOINT_FILE,
  tf,
  type CheckpointMeta,
  type LoadedDataset,
  type PluginRegistry,
  type ResolvedConfig,
  type RunParts,
} from '../core/portable.js';
import { gridPixels, spreadIndices } from '../plugins/callbacks/grid-pixels.js';
import { attentionRows } from '../plugins/callbacks/attention-rows.js';
import { pictureRows } from '../plugins/callbacks/picture-rows.js';

/** What a run in the tab reports, in order: its size, each step, each epoch's kNN, the random-weights line, the end. */
export type PlaygroundEvent =
  | { type: 'start'; stepsPerEpoch: number; epochs: number; parameters: number }
  | {
      type: 'step';
      step: number;
      epoch: number;
      loss: number;
      viewsPerSecond: number;
      ms: number;
      trainMs: number;
      at: number;
      /** tfjs's live tensors after the step (its batch disposed): flat from step to step, or something leaks */
      tensors: number;
    }
  | { type: 'epoch'; epoch: number; step: number; loss: number; knn: number; seconds: number }
  | { type: 'baseline'; knn: number }
  /** a task's picture: `kind` 'reconstruction' (rows input / prediction / target) or 'attention' (rows: an image, then its cls attention per head) */
  | { type: 'picture'; task: string; kind: 'reconstruction' | 'attention'; epoch: number; width: number; height: number; rgb: Uint8Array }
  | { type: 'embedding'; epoch: number; points: Array<[number, number]>; labels: number[]; classNames?: string[] }
  | { type: 'end'; steps: number; knn: number; randomKnn?: number };

/**
 * One training run in a browser tab: the CLI's step (`trainStep`, the same plugins and RNG streams)
 * in a loop that yields to the worker's message queue between steps, so it can be paused; the
 * kNN of `eval.final`'s kNN settings after every epoch, and the random-weights baseline once (when
 * `eval.baseline`). Files, checkpoints and signals are the Node trainer's business, not this one's.
 */
export class PlaygroundRun {
  private paused = false;
  private wake?: () => void;
  private stopped = false;
  parts?: RunParts;
  private step = 0;
  private epochsDone = 0;
  private rng: Rng;
  private readonly history: Array<Record<string, number>> = [];

  constructor(
    private readonly config: ResolvedConfig,
    private readonly registry: PluginRegistry,
    private readonly data: LoadedDataset,
    private readonly emit: (e: PlaygroundEvent) => void,
    private readonly log: (m: string) => void = () => {},
    /** test images in the per-epoch embedding (0: none) */
    private readonly embeddingImages = 1000,
  ) {
    this.rng = Rng.fromSeed(config.seed, 'augment');
  }

  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    this.wake?.();
  }
  stop(): void {
    this.stopped = true;
    this.resume();
  }

  async run(): Promise<void> {
    const { config, registry, log } = this;
    const parts = (this.parts = await buildRun(config, { registry, log, data: this.data }));
    const tc = config.train;
    const stepsPerEpoch = Math.floor(parts.data.train.count / tc.batchSize);
    const total = stepsPerEpoch * tc.epochs;
    const knn = await this.knnEvaluator();
    const evalOpts = evalOptionsOf(parts, log);
    this.emit({ type: 'start', stepsPerEpoch, epochs: tc.epochs, parameters: parts.params.reduce((n, p) => n + p.variable.size, 0) });
    if (config.eval.baseline) {
      const b = await randomWeightsBaseline({ ...parts, final: knn }, config, registry, log);
      this.emit({ type: 'baseline', knn: b.random_knn_top1 });
    }
    const rng = this.rng;
    let lastKnn = NaN;
    let trainSeconds = 0;
    // the config's budget, as the Node trainer reads it
    const spent = () => (tc.maxSteps !== undefined && this.step >= tc.maxSteps) || (tc.maxSeconds !== undefined && trainSeconds >= tc.maxSeconds);
    for (let epoch = 0; epoch < tc.epochs && !this.stopped; epoch++) {
      const t0 = performance.now();
      const order = Rng.fromSeed(config.seed, `shuffle/${epoch}`).permutation(parts.data.train.count);
      const queue = new BatchQueue(parts.data.train, parts.info, batchesOf(order, tc.batchSize, 0, stepsPerEpoch), tc.prefetch ?? DEFAULT_PREFETCH);
      let sum = 0;
      try {
        for (let s = 0; s < stepsPerEpoch && !this.stopped && !spent(); s++) {
          await this.yieldToMessages();
          if (this.stopped) break;
          const tStep = performance.now();
          const progress = progressAt(this.step, total, stepsPerEpoch);
          parts.scalars.apply(progress);
          const batch = await queue.take();
          const tTrain = performance.now();
          const r = await trainStep(parts, batch, rng, parts.schedule.value(progress), progress);
          const trainMs = performance.now() - tTrain;
          batch.x.dispose();
          this.step++;
          sum += r.loss;
          const ms = performance.now() - tStep;
          trainSeconds += ms / 1000;
          this.emit({
            type: 'step',
            step: this.step,
            epoch,
            loss: r.loss,
            viewsPerSecond: (r.views * 1000) / ms,
            ms,
            trainMs,
            at: performance.now(),
            tensors: tf.memory().numTensors,
          });
        }
      } finally {
        queue.close();
      }
      const stepsThisEpoch = this.step - epoch * stepsPerEpoch;
      if (this.stopped || stepsThisEpoch === 0) break;
      const m = await runEvaluators(knn, parts.tasks[0].branch, parts.data, evalOpts);
      lastKnn = m.knn_top1;
      this.epochsDone = epoch + 1;
      const loss = sum / stepsThisEpoch;
      this.history.push({ epoch: epoch + 1, step: this.step, loss, knn_top1: lastKnn });
      this.emit({ type: 'epoch', epoch: epoch + 1, step: this.step, loss, knn: lastKnn, seconds: (performance.now() - t0) / 1000 });
      await this.pictures(epoch + 1);
      await this.embed(epoch + 1);
      if (spent()) break;
    }
    this.emit({ type: 'end', steps: this.step, knn: lastKnn });
  }

  /** The kNN the page plots: eval.final's kNN settings (k, temperature), or the defaults. */
  private async knnEvaluator() {
    const { config, registry, log } = this;
    const knnConfig = config.eval.final.find((e) => e.type === 'knn') ?? { type: 'knn' };
    const ctx = { seed: config.seed, rng: Rng.fromSeed(config.seed, '/eval/playground'), path: '/eval/playground', registry, log };
    return [await registry.create('evaluator', knnConfig, ctx)];
  }

  /**
   * A checkpoint loaded into the tab (one made by `selfsup train` in Node, or downloaded from here):
   * its weights restored into this run's model, then scored and drawn as after an epoch: kNN beside
   * the random-weights line, pictures, embedding.
   */
  async evaluateCheckpoint(meta: CheckpointMeta, values: Float32Array): Promise<void> {
    const { config, registry, log } = this;
    const t0 = performance.now();
    const parts = (this.parts = await buildRun(config, { registry, log, data: this.data }));
    restoreTensors(meta, values, stateTensors(parts));
    this.step = meta.step;
    this.epochsDone = meta.epoch;
    this.rng = Rng.fromState(meta.rng);
    this.history.push(...(meta.history ?? []));
    const stepsPerEpoch = Math.floor(parts.data.train.count / config.train.batchSize);
    this.emit({ type: 'start', stepsPerEpoch, epochs: config.train.epochs, parameters: parts.params.reduce((n, p) => n + p.variable.size, 0) });
    const knn = await this.knnEvaluator();
    if (config.eval.baseline) {
      const b = await randomWeightsBaseline({ ...parts, final: knn }, config, registry, log);
      this.emit({ type: 'baseline', knn: b.random_knn_top1 });
    }
    const m = await runEvaluators(knn, parts.tasks[0].branch, parts.data, evalOptionsOf(parts, log));
    this.emit({ type: 'epoch', epoch: meta.epoch, step: meta.step, loss: NaN, knn: m.knn_top1, seconds: (performance.now() - t0) / 1000 });
    await this.pictures(meta.epoch);
    await this.embed(meta.epoch);
    this.emit({ type: 'end', steps: meta.step, knn: m.knn_top1 });
  }

  /**
   * The run as a checkpoint `selfsup eval --checkpoint FILE.tar` reads in Node: a tar of the same
   * `checkpoint.json` and weight file a Node run writes into its directory.
   */
  async checkpointTar(): Promise<{ name: string; bytes: Uint8Array }> {
    if (!this.parts) throw new Error('no run to save yet: start one first');
    const state = { step: this.step, epoch: this.epochsDone, rng: this.rng.state(), config: this.config, backend: tf.getBackend(), history: this.history };
    const { meta, bytes } = await checkpointRecord(state, stateTensors(this.parts));
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
    const full = { ...meta, weightsSha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') };
    const tar = packTar([
      { name: CHECKPOINT_FILE, data: new TextEncoder().encode(JSON.stringify(full, null, 1)) },
      { name: meta.weights, data: bytes },
    ]);
    return { name: `${this.config.name}-step${this.step}.tar`, bytes: tar };
  }

  /**
   * Each task's pictures, as the callbacks draw them in Node: image-grid's for a task with an image
   * target (inpainting, colorization, MAE), attention-maps' for an encoder with attention (a vit: DINO).
   */
  private async pictures(epoch: number): Promise<void> {
    const { parts } = this;
    if (!parts) return;
    const set = parts.data.test ?? parts.data.train;
    const idx = spreadIndices(set.count, 8);
    for (const task of parts.tasks) {
      const drawn = [
        ['reconstruction', await pictureRows(task, set, parts.info, idx)],
        ['attention', await attentionRows(task, set, parts.info, idx)],
      ] as const;
      for (const [kind, rows] of drawn) {
        if (!rows) continue;
        let grid;
        try {
          grid = await gridPixels(rows, 3);
        } finally {
          for (const r of rows) r.dispose();
        }
        const { width, height, rgb } = grid;
        this.emit({ type: 'picture', task: task.name, kind, epoch, width, height, rgb });
      }
    }
  }

  /** A 2-D UMAP of the encoder's `h` for the first `embeddingImages` test images, coloured by class on the page. */
  private async embed(epoch: number): Promise<void> {
    const { parts } = this;
    if (!parts?.data.test || this.embeddingImages <= 0) return;
    const test = limitSet(parts.data.test, parts.info, this.embeddingImages);
    const f = await extractFeatures(parts.tasks[0].branch, test, parts.info, 'h', this.config.eval.batchSize, evalViewOf(parts));
    const { points } = await umap2d(f, { seed: this.config.seed, epochs: 200 });
    this.emit({ type: 'embedding', epoch, points, labels: Array.from(test.labels), classNames: parts.info.classNames });
  }

  /** Let the worker read its messages (pause, stop), and wait while paused. */
  private async yieldToMessages(): Promise<void> {
    await new Promise((r) => setTimeout(r, 0));
    while (this.paused && !this.stopped) await new Promise<void>((r) => (this.wake = r));
  }
}
