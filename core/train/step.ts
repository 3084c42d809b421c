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
        const outputs = forwardViews(task.branch, vs, info, true, concat);
        const forward = (branch: typeof task.branch, xs: Tensor[]) => as2d(forwardViews(branch, xs, info, true, concat));
        const keys = task.target.keys(vs, as2d(outputs), forward);
        const input = { queries: as2d(outputs), keys, index: batch.index };
        const negatives = task.negatives.negatives(input);
        const loss = task.loss.compute({ outputs, keys, negatives, targets, index: batch.index });
        perTask[task.name] = tf.keep(loss);
        if (task.negatives.update) {
          forUpdate[i] = { queries: input.queries.map((q) => tf.keep(q)), keys: keys?.map((k) => tf.keep(k)) };
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
      tf.dispose([...u.queries, ...(u.keys ?? [])]);
    }
    tasks[task.name] = perTask[task.name].dataSync()[0];
    perTask[task.name].dispose();
  });
  return { loss: lossValue, tasks, views };
}
