import { tf, type Scalar, type Tensor, type Tensor2D } from '../engine/tf.js';
import type { Batch } from '../contracts/data.js';
import type { Progress } from '../contracts/schedule.js';
import { TrainingError } from '../errors.js';
import type { Rng } from '../rng.js';
import { as2d, forwardViews } from './branch.js';
import type { RunParts } from './build.js';

export interface StepResult {
  /** the summed, weighted loss */
  loss: number;
  /** each task's unweighted loss */
  tasks: Record<string, number>;
  /** views encoded by the online branch(es) */
  views: number;
}

/**
 * The one generic training step (DESIGN.md), for every preset and any number of tasks:
 *
 *   batch --Augmenter--> views (+ targets)
 *   views --Encoder--> h --Head--> z                     online branch, with gradient
 *   views --target--> k                                  shared | momentum (EMA, no grad) | none
 *   NegativeSource.negatives({z, k, index})
 *   Loss({z, k, negatives, targets}) * weight, summed over tasks -> Optimizer
 *   after: target.update(progress); NegativeSource.update({k, index})
 */
export function trainStep(parts: RunParts, batch: Batch, rng: Rng, lr: number, progress: Progress): StepResult {
  const { info, config } = parts;
  const concat = config.train.concatViews;
  const trainable = parts.params.map((p) => p.variable);
  const keyOf = new Map(parts.params.map((p) => [p.variable.name, p.key]));
  const perTask: Record<string, Scalar> = {};
  const forUpdate: Array<{ queries: Tensor2D[]; keys?: Tensor2D[] }> = [];
  let views = 0;

  const lossValue = tf.tidy(() => {
    const augmented = parts.tasks.map((t) => t.augmenter.apply(batch.x, rng));
    const { value, grads } = tf.variableGrads(() => {
      let total: Scalar = tf.scalar(0);
      parts.tasks.forEach((task, i) => {
        const { views: vs, targets } = augmented[i];
        views += vs.reduce((n, v) => n + v.shape[0], 0);
        const { online, keyed } = viewsToEncode(task, vs.length);
        const outputs = scatter(vs.length, online, forwardViews(task.branch, pick(vs, online), info, true, concat));
        const forward = (branch: typeof task.branch, xs: Tensor[]) => as2d(forwardViews(branch, xs, info, true, concat));
        const picked = task.target.keys(pick(vs, keyed), as2d(pick(outputs, keyed)), forward);
        const keys = picked && (scatter(vs.length, keyed, picked) as Tensor2D[]);
        const input = { queries: as2d(outputs), keys, index: batch.index };
        const negatives = task.negatives.negatives(input);
        const loss = task.loss.compute({ outputs, keys, negatives, targets, index: batch.index });
        perTask[task.name] = tf.keep(loss);
        if (task.negatives.update) {
          forUpdate[i] = { queries: input.queries.map((q) => q && tf.keep(q)), keys: keys?.map((k) => k && tf.keep(k)) };
        }
        total = tf.add(total, tf.mul(loss, task.weight));
      });
      return total;
    }, trainable);
    const named = new Map<string, Tensor>();
    for (const [varName, g] of Object.entries(grads)) named.set(keyOf.get(varName)!, g);
    const v = value.dataSync()[0];
    if (!Number.isFinite(v)) {
      throw new TrainingError(
        `the loss became ${v} at step ${progress.step + 1} (epoch ${progress.epoch + 1}): lower the learning rate (optimizer.lr), add warmup (schedule), or check the data and the loss's temperature`,
      );
    }
    parts.optimizer.apply(named, lr);
    return v;
  });

  const after = { ...progress, step: progress.step + 1 };
  const tasks: Record<string, number> = {};
  parts.tasks.forEach((task, i) => {
    task.target.update?.(after);
    const u = forUpdate[i];
    if (u) {
      task.negatives.update!({ queries: u.queries, keys: u.keys, index: batch.index });
      tf.dispose([...u.queries, ...(u.keys ?? [])].filter((t) => t !== undefined));
    }
    tasks[task.name] = perTask[task.name].dataSync()[0];
    perTask[task.name].dispose();
  });
  return { loss: lossValue, tasks, views };
}

type Task = RunParts['tasks'][number];

/**
 * The views to encode online and through the target: all of them, unless the loss says which it
 * reads (`Loss.viewsRead`) and nothing else needs the rest (a target that is not the online branch
 * itself, a negative source that reads only keys): MoCo with one query view encodes view 0 online
 * and view 1 through the momentum encoder, as the paper's pseudo-code does.
 */
function viewsToEncode(task: Task, n: number): { online: number[]; keyed: number[] } {
  const all = [...Array(n).keys()];
  const reads = task.loss.viewsRead?.(n);
  if (!reads || task.target.readsOnline || task.negatives.readsQueries !== false) return { online: all, keyed: all };
  return { online: reads.outputs, keyed: reads.keys };
}

const pick = <T>(xs: T[], idx: number[]): T[] => idx.map((i) => xs[i]);

/** an array of length n with `values` at `idx` and undefined elsewhere (views not encoded) */
function scatter<T>(n: number, idx: number[], values: T[]): T[] {
  const out = new Array<T>(n).fill(undefined as T);
  idx.forEach((i, j) => (out[i] = values[j]));
  return out;
}
