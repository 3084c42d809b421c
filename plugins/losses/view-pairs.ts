import { Type } from '@sinclair/typebox';
import { l2Normalize, readOutputs, stopGradient, tf, type LossInput, type Tensor, type Tensor2D } from '../../core/index.js';

/**
 * What the two-view losses share (not a plugin): reading an online output of one view against a
 * target output of the other, in both orders (BYOL, SimSiam), or one output of views 0 and 1
 * (Barlow Twins, VICReg).
 */

/**
 * Per-sample cos(online_a, target_b) `[N]` for (a, b) = (0, 1) and (1, 0), the target side detached
 * when `detach`. `who` names the loss in the message for a missing view.
 */
export function crossViewCosines(
  input: Pick<LossInput, 'online' | 'target'>,
  names: { online: string; target: string },
  detach: boolean,
  who: string,
): Tensor[] {
  const ps = readOutputs(input.online, names.online, 'online');
  const zs = readOutputs(input.target, names.target, 'target');
  return [
    [0, 1],
    [1, 0],
  ].map(([a, b]) => {
    if (!ps[a] || !zs[b])
      throw new Error(
        `${who} needs online.${names.online} and target.${names.target} of views 0 and 1 (a two-view augmenter such as multi-view with views: 2)`,
      );
    const z = detach ? stopGradient(zs[b]) : zs[b];
    return tf.sum(tf.mul(l2Normalize(ps[a]), l2Normalize(z)), -1);
  });
}

/** Options of a loss between one output of two views: which output, and the branch view 1 comes from. */
export const twoViewOptions = {
  output: Type.String({ default: 'z', description: 'the named output both views are read from' }),
  branch: Type.Union([Type.Literal('online'), Type.Literal('target')], {
    default: 'online',
    description: 'the branch view 1 is read from (view 0 is always online)',
  }),
};

/** `viewsRead` of such a loss: both views online, or view 0 online and view 1 on the target. */
export const twoViewsRead = (o: { branch: 'online' | 'target' }) => () =>
  o.branch === 'online' ? { online: [0, 1], target: [] } : { online: [0], target: [1] };

/** The output of view 0 (online) and view 1 (`branch`), `[N, D]` each. */
export function twoViews(input: Pick<LossInput, 'online' | 'target'>, o: { output: string; branch: 'online' | 'target' }, who: string): [Tensor2D, Tensor2D] {
  const a = readOutputs(input.online, o.output, 'online')[0] as Tensor2D | undefined;
  const b = readOutputs(o.branch === 'online' ? input.online : input.target, o.output, o.branch)[1] as Tensor2D | undefined;
  if (a === undefined || b === undefined) throw new Error(`${who} needs two views: it reads ${o.output} of view 0 (online) and view 1 (${o.branch})`);
  return [a, b];
}
