import { Type } from '@sinclair/typebox';
import { definePlugin, readOutputs, stopGradient, tf, type Progress, type Scalar, type Tensor, type Tensor2D, type Variable } from '../../core/index.js';

/**
 * DINO's self-distillation loss (Caron et al. 2021, "Emerging Properties in Self-Supervised Vision
 * Transformers"; `DINOLoss` of the official code). It reads the logits `z` `[B, K]` (the `dino`
 * head) of every view on the online branch (the student) and of the first `globalViews` views on the
 * target branch (the teacher, a momentum copy; multi-crop puts the large crops first):
 *
 *   P_t,i = softmax((t_i - c) / T_t)          teacher, global view i, no gradient
 *   log P_s,v = log_softmax(s_v / T_s)        student, every view v
 *   loss = mean over pairs (i, v), v != i, of  mean_b  - sum_k P_t,i[b, k] log P_s,v[b, k]
 *
 * (the official loop: `total_loss / n_loss_terms`, i.e. G·(V-1) terms for G global views among V).
 *
 * The centre c `[1, K]` is state (`state()`: `center`, checkpointed with the run): it starts at 0 and
 * after each step becomes m·c + (1-m)·mean over the batch of the raw teacher logits of every global
 * view, m = `centerMomentum`. `compute` takes the batch mean (from the teacher outputs, no gradient)
 * and `afterStep` applies it, so the step's loss uses the centre of the steps before it, as the
 * official `update_center` after the loss.
 *
 * Teacher temperature: linear from `warmupTeacherTemp` at step 0 to `teacherTemp` at the end of
 * `warmupTeacherTempEpochs` epochs (fractions allowed), constant after; read from `progress` at each
 * step. The official code holds one value per epoch, `linspace(warmup, final, W)[epoch]` (it reaches
 * the final value in epoch W-1); here it moves per step and reaches it at the end of epoch W. Epochs,
 * not a fraction of the run, as the paper (30 epochs, in 100- to 800-epoch runs): the warm-up is
 * against early instability, which lasts a number of steps, not a share of the run.
 *
 * Logged terms: `teacher_temp`; `batch_entropy`, the entropy of the batch-mean teacher distribution
 * (0: every image in the same output, one kind of collapse); `sample_entropy`, the mean entropy of
 * each image's teacher distribution (log K: uniform outputs, the other kind, which sharpening
 * prevents). DINO section 5.3 (figure 7) watches the same two failure modes.
 *
 * `viewsRead`: every view online, the global views on the target: with a momentum target and no
 * negatives only those go through the teacher.
 *
 * @example { "type": "dino", "teacherTemp": 0.07, "warmupTeacherTempEpochs": 2 }
 */
export default definePlugin({
  kind: 'loss',
  name: 'dino',
  description: 'DINO: cross-entropy of centred, sharpened teacher distributions (global views) against the student on every other view',
  reference: 'DINO (Caron et al. 2021): T_s = 0.1, T_t 0.04 -> 0.07 over 30 epochs, centre momentum 0.9, 2 global views',
  readsGlobalViews: (o) => o.globalViews,
  options: Type.Object({
    output: Type.String({ default: 'z', description: 'the output read on both branches (the dino head gives its logits as z)' }),
    globalViews: Type.Integer({
      default: 2,
      minimum: 1,
      description: 'the first views are the global crops, the only ones the teacher sees (multi-crop puts the largest first)',
    }),
    studentTemp: Type.Number({ default: 0.1, exclusiveMinimum: 0, description: 'student softmax temperature T_s' }),
    teacherTemp: Type.Number({ default: 0.07, exclusiveMinimum: 0, description: 'teacher temperature T_t after the warm-up' }),
    warmupTeacherTemp: Type.Number({ default: 0.04, exclusiveMinimum: 0, description: 'teacher temperature at the first step' }),
    warmupTeacherTempEpochs: Type.Number({
      default: 30,
      minimum: 0,
      description: 'epochs (fractions allowed) of the linear teacher-temperature warm-up; 0: teacherTemp from the start',
    }),
    centerMomentum: Type.Number({ default: 0.9, minimum: 0, maximum: 1, description: 'm of the centre EMA, c <- m c + (1 - m) batch mean' }),
  }),
  create(o, ctx) {
    const k = ctx.inputDim;
    if (!k) throw new Error(`${ctx.path}: the dino loss needs the size of the head's output (K) for its centre`);
    const center: Variable = tf.variable(tf.zeros([1, k]), false);
    // this step's batch mean of the teacher logits, applied to the centre after the step
    let pending: Tensor | undefined;
    return {
      viewsRead: (views: number) => ({ online: [...Array(views).keys()], target: [...Array(Math.min(o.globalViews, views)).keys()] }),
      compute({ online, target, progress }) {
        const student = readOutputs(online, o.output, 'online') as Tensor2D[];
        const teacher = (readOutputs(target, o.output, 'target') as Tensor2D[]).slice(0, o.globalViews);
        const views = student.length;
        if (views < 2) throw new Error(`dino predicts the teacher's view from the student's other views: it needs at least 2 views, got ${views}`);
        if (o.globalViews > views || teacher.some((t) => t === undefined))
          throw new Error(`dino reads the teacher's ${o.output} of the first ${o.globalViews} views (globalViews), but there are ${views} views`);
        for (const [side, ts] of [
          ['online', student],
          ['target', teacher],
        ] as const) {
          const bad = ts.find((t) => t.rank !== 2 || t.shape[1] !== k);
          if (bad) throw new Error(`dino reads ${side}.${o.output} as [B, ${k}] logits (the head's size), got [${bad.shape}]: use the dino head`);
        }
        const temp = teacherTempAt(o, progress);
        // the teacher: centred, sharpened, no gradient (also when the target branch shares the student's)
        const probs = teacher.map((t) => stopGradient(tf.softmax(tf.div(tf.sub(t, center), temp))) as Tensor2D);
        const logP = student.map((s) => tf.logSoftmax(tf.div(s, o.studentTemp)));
        const terms: Tensor[] = [];
        probs.forEach((q, i) => {
          for (let v = 0; v < views; v++) if (v !== i) terms.push(tf.mean(tf.sum(tf.mul(q, logP[v]), 1)));
        });
        const loss = tf.div(tf.neg(tf.addN(terms)), terms.length) as Scalar;

        const allTeacher = tf.concat(teacher, 0);
        pending?.dispose();
        pending = tf.keep(tf.mean(allTeacher, 0, true));
        const allProbs = tf.concat(probs, 0);
        const entropy = (p: Tensor) => tf.neg(tf.sum(tf.mul(p, tf.log(tf.maximum(p, 1e-30))), -1));
        return {
          loss,
          terms: {
            teacher_temp: tf.scalar(temp),
            batch_entropy: entropy(tf.mean(allProbs, 0)) as Scalar,
            sample_entropy: tf.mean(entropy(allProbs)) as Scalar,
          },
        };
      },
      afterStep() {
        if (!pending) return;
        const batchCenter = pending;
        pending = undefined;
        tf.tidy(() => center.assign(tf.add(tf.mul(center, o.centerMomentum), tf.mul(batchCenter, 1 - o.centerMomentum))));
        batchCenter.dispose();
      },
      state: () => new Map([['center', center]]),
    };
  },
});

/** The teacher temperature at a point of training: linear over `warmupTeacherTempEpochs` epochs, then constant. */
export function teacherTempAt(
  o: { teacherTemp: number; warmupTeacherTemp: number; warmupTeacherTempEpochs: number },
  p: Pick<Progress, 'step' | 'stepsPerEpoch'>,
): number {
  const warm = o.warmupTeacherTempEpochs * p.stepsPerEpoch;
  if (!(warm > 0) || p.step >= warm) return o.teacherTemp;
  return o.warmupTeacherTemp + (o.teacherTemp - o.warmupTeacherTemp) * (p.step / warm);
}
