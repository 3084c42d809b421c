import { tf, type Scalar, type Tensor, type Tensor2D } from '../engine/tf.js';
import type { Batch } from '../contracts/data.js';
import type { Outputs } from '../contracts/modules.js';
import type { EncodedViews, LossOutput } from '../contracts/objective.js';
import { progressAt, type Progress } from '../contracts/schedule.js';
import { PluginError, SelfsupError, TrainingError } from '../errors.js';
import { l2Normalize } from '../nn/layers.js';
import type { Rng } from '../rng.js';
import { encodeViews } from './branch.js';
import type { RunParts, TaskRuntime } from './build.js';

export interface StepResult {
  /** the summed, weighted loss */
  loss: number;
  /** each task's unweighted loss */
  tasks: Record<string, number>;
  /** each loss's named terms (`invariance`, ...; `<task>/<term>` with several tasks) */
  terms: Record<string, number>;
  /**
   * the collapse monitor: mean over dimensions of the standard deviation of the L2-normalised
   * online `z` of view 0 over the batch (`z_std`, `<task>/z_std` with several tasks). Collapsed:
   * 0; spread evenly over the sphere: about 1/sqrt(D) (SimSiam, section 4.1).
   */
  monitor: Record<string, number>;
  /** views encoded by the online branch(es) */
  views: number;
}

/**
 * The one generic training step, for every preset and any number of tasks, in named phases:
 *
 *   augment     batch --Augmenter--> views (+ supervision)
 *   target      views --target branch--> target outputs        (momentum: before the tape, no gradient; its activations freed at once)
 *   encode      views (+ keep) --Encoder--> h --Head--> z --Predictor--> p   (online, with gradient; one pass per resolution)
 *   negatives   NegativeSource.negatives({online, target, index})
 *   loss        Loss({online, target, negatives, supervision, progress}) x weight, summed over tasks
 *   check       the loss (and the gradients' global norm, when clipped) read back in one transfer; a loss that is not finite stops the run before any update
 *   apply       gradients -> drop frozen -> clip -> Optimizer, each parameter with its group's settings
 *   after-step  target, negatives, loss, head and predictor `afterStep`/`update`, outside the tape
 *
 * Every value the step reads back from the backend it reads asynchronously (`await data()`), never
 * with `dataSync`: a backend on a GPU in a browser may not read synchronously at all (WebGPU in
 * headless Chromium reads zeros that way), and a read that waits lets the page stay responsive.
 */
export async function trainStep(parts: RunParts, batch: Batch, rng: Rng, lrMultiplier: number, progress: Progress): Promise<StepResult> {
  const trainable = parts.params.map((p) => p.variable);
  const keyOf = new Map(parts.params.map((p) => [p.variable.name, p.key]));
  const kept: Array<{ losses: Record<string, Scalar>; monitor?: Scalar; forUpdate?: EncodedViews }> = [];
  let views = 0;

  // the forward pass and the gradients; what outlives this scope: the loss, the gradients, and what `kept` holds
  const { value, grads } = tf.tidy(() => {
    const augmented = parts.tasks.map((t) => t.augmenter.apply(batch.x, rng));
    // in its own scope: only the outputs outlive it, not the target's activations (the tape does not record them, but the step's scope would keep them)
    const targets = parts.tasks.map((task, i) =>
      task.target.readsOnline ? undefined : tf.tidy(() => materialise(targetOutputs(parts, task, augmented[i].views, undefined))),
    );
    return tf.variableGrads(() => {
      let total: Scalar = tf.scalar(0);
      parts.tasks.forEach((task, i) => {
        const { views: vs, supervision, keep } = augmented[i];
        const { online: onlineIdx } = viewsToEncode(task, vs.length);
        views += onlineIdx.reduce((n, v) => n + vs[v].shape[0], 0);
        const outs = encodeViews(task.branch, pick(vs, onlineIdx), parts.info, true, parts.config.train.concatViews, true, keep && pick(keep, onlineIdx));
        const online = scatter(vs.length, onlineIdx, outs);
        const target = targets[i] ?? (task.target.readsOnline ? targetOutputs(parts, task, vs, online) : undefined);
        const encoded: EncodedViews = { online, target, index: batch.index };
        const negatives = withPlugin(task, 'negatives', () => task.negatives.negatives(encoded));
        const out = withPlugin(task, 'loss', () => task.loss.compute({ ...encoded, negatives, supervision, progress }));
        const { loss, terms } = splitLoss(out);
        kept[i] = { losses: Object.fromEntries(Object.entries({ loss, ...terms }).map(([k, t]) => [k, tf.keep(t)])), monitor: collapseMonitor(online) };
        if (task.negatives.update) kept[i].forUpdate = keepViews(encoded);
        total = tf.add(total, tf.mul(loss, task.weight));
      });
      return total;
    }, trainable);
  });
  const named = new Map<string, Tensor>();
  for (const [varName, g] of Object.entries(grads)) named.set(keyOf.get(varName)!, g);

  let lossValue: number;
  try {
    lossValue = await checkAndApply(parts, value, named, lrMultiplier, progress);
  } catch (e) {
    tf.dispose([
      ...Object.values(kept).flatMap((k) => [...Object.values(k.losses), ...(k.monitor ? [k.monitor] : []), ...(k.forUpdate ? tensorsOf(k.forUpdate) : [])]),
    ]);
    throw e;
  } finally {
    tf.dispose([value, ...Object.values(grads)]);
  }

  const after = progressAt(progress.step + 1, progress.totalSteps, progress.stepsPerEpoch);
  const result: StepResult = { loss: lossValue, tasks: {}, terms: {}, monitor: {}, views };
  const prefix = (task: TaskRuntime, name: string) => (parts.tasks.length > 1 ? `${task.name}/${name}` : name);
  // every reported scalar (task losses, terms, the collapse monitor) read back in one transfer
  const reported: Array<{ set: (v: number) => void; t: Scalar }> = [];
  for (const [i, task] of parts.tasks.entries()) {
    task.target.afterStep?.(after);
    const u = kept[i].forUpdate;
    if (u) {
      try {
        await task.negatives.update!(u);
      } finally {
        tf.dispose(tensorsOf(u));
      }
    }
    task.loss.afterStep?.(after);
    task.head.afterStep?.(after);
    task.predictor?.afterStep?.(after);
    const { loss, ...terms } = kept[i].losses;
    reported.push({ set: (v) => (result.tasks[task.name] = v), t: loss });
    for (const [k, t] of Object.entries(terms)) reported.push({ set: (v) => (result.terms[prefix(task, k)] = v), t });
    const m = kept[i].monitor;
    if (m) reported.push({ set: (v) => (result.monitor[prefix(task, 'z_std')] = v), t: m });
  }
  const stacked = tf.stack(reported.map((r) => r.t));
  tf.dispose(reported.map((r) => r.t));
  try {
    const values = await stacked.data();
    reported.forEach((r, j) => r.set(values[j]));
  } finally {
    stacked.dispose();
  }
  return result;
}

/**
 * The check and apply phases: read the loss (and, with `train.clipGradNorm`, the gradients' global
 * norm) in one transfer; a loss that is not finite throws before any parameter moves. Then drop
 * frozen parameters' gradients, clip the global norm of the rest, and step the optimizer with each
 * parameter's settings. Returns the loss.
 */
async function checkAndApply(parts: RunParts, value: Scalar, grads: Map<string, Tensor>, lrMultiplier: number, progress: Progress): Promise<number> {
  parts.groups.dropFrozen(grads, progress);
  const max = parts.config.train.clipGradNorm;
  const clip = max !== undefined && grads.size > 0;
  const read = tf.tidy(() => (clip ? tf.stack([value, tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))]) : tf.reshape(value, [1])));
  let v: number;
  let norm = 0;
  try {
    const r = await read.data();
    v = r[0];
    if (clip) norm = Math.sqrt(r[1]);
  } finally {
    read.dispose();
  }
  if (!Number.isFinite(v)) {
    const losses = parts.tasks.map((t) => `${t.config.loss.type} (at ${t.path || ''}/loss)`).join(', ');
    throw new TrainingError(
      progress.step === 0
        ? `the loss became ${v} at the first step, before any update, so not through the learning rate: check the loss ${losses}, its options, and the data`
        : `the loss became ${v} at step ${progress.step + 1} (epoch ${progress.epoch + 1}) of ${losses}: lower the learning rate (optimizer.lr), add warmup (schedule), or check the data and the loss's temperature`,
    );
  }
  tf.tidy(() => {
    if (clip && norm > max) for (const [k, g] of grads) grads.set(k, tf.mul(g, max / (norm + 1e-6)));
    parts.optimizer.apply(grads, parts.groups.hyper(parts.optimizer, lrMultiplier));
  });
  return v;
}

/** The target phase for one task: its branch's outputs for the views it reads (undefined elsewhere). */
function targetOutputs(parts: RunParts, task: TaskRuntime, vs: Tensor[], online: Outputs[] | undefined): Outputs[] | undefined {
  const { target: idx } = viewsToEncode(task, vs.length);
  const forward = (branch: typeof task.branch, xs: Tensor[]) => encodeViews(branch, xs, parts.info, true, parts.config.train.concatViews, false);
  const out = withPlugin(task, 'target', () => task.target.outputs(pick(vs, idx), online && pick(online, idx), forward));
  return out && scatter(vs.length, idx, out);
}

/**
 * The views to encode online and through the target: all of them, unless the loss says which it
 * reads (`Loss.viewsRead`) and nothing else needs the rest (a target that is not the online branch
 * itself, a negative source that reads only the target): MoCo with one query view encodes view 0
 * online and view 1 through the momentum encoder, as the paper's pseudo-code does.
 */
function viewsToEncode(task: TaskRuntime, n: number): { online: number[]; target: number[] } {
  const all = [...Array(n).keys()];
  const reads = task.loss.viewsRead?.(n);
  if (!reads || task.target.readsOnline || task.negatives.readsOnline !== false) return { online: all, target: all };
  return reads;
}

/** Every named output read now (lazy ones made), as plain objects a tidy can return: what is not read later is disposed with the step. */
function materialise(outs: Outputs[] | undefined): Outputs[] | undefined {
  return outs?.map((o) => o && Object.fromEntries(Object.keys(o).map((k) => [k, o[k]])));
}

/** `{loss, terms}` from either form of a loss's value. */
function splitLoss(out: LossOutput): { loss: Scalar; terms: Record<string, Scalar> } {
  return out instanceof tf.Tensor ? { loss: out, terms: {} } : out;
}

/** SimSiam's collapse indicator on view 0's online `z`, when it is a batch of vectors. */
function collapseMonitor(online: Outputs[]): Scalar | undefined {
  const z = online.find((o) => o !== undefined)?.z;
  if (!z || z.rank !== 2 || z.shape[0] < 2) return undefined;
  return tf.keep(tf.tidy(() => tf.mean(tf.sqrt(tf.moments(l2Normalize(z), 0).variance)) as Scalar));
}

/** A plugin's own error, labelled with its kind, name and config path (a missing output name, a shape it did not expect). */
function withPlugin<T>(task: TaskRuntime, slot: 'loss' | 'target' | 'negatives', run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof TrainingError) throw e;
    const msg = e instanceof Error ? e.message.replace(/^invalid config:\n\s*\/?:?\s*/, '') : String(e);
    const label = `${slot} '${task.config[slot].type}' at ${task.path || ''}/${slot}: ${msg}`;
    if (e instanceof SelfsupError) {
      const err = new SelfsupError(label, e.exitCode);
      (err as { cause?: unknown }).cause = e;
      throw err;
    }
    throw new PluginError(label, e); // the plugin's own code threw
  }
}

/** Detached copies of the encoded views kept past the step's tidy, for `NegativeSource.update`. */
function keepViews(e: EncodedViews): EncodedViews {
  const keep = (os?: Outputs[]) => os?.map((o) => o && { z: tf.keep(o.z) as Tensor2D });
  return { online: keep(e.online)!, target: keep(e.target), index: e.index };
}

function tensorsOf(e: EncodedViews): Tensor[] {
  return [...e.online, ...(e.target ?? [])].filter((o) => o !== undefined).map((o) => o.z);
}

const pick = <T>(xs: T[], idx: number[]): T[] => idx.map((i) => xs[i]);

/** an array of length n with `values` at `idx` and undefined elsewhere (views not encoded) */
function scatter<T>(n: number, idx: number[], values: T[]): T[] {
  const out = new Array<T>(n).fill(undefined as T);
  idx.forEach((i, j) => (out[i] = values[j]));
  return out;
}
