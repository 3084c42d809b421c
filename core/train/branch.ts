import { tf, type Tensor, type Tensor2D, type Tensor4D } from '../engine/tf.js';
import type { DatasetInfo } from '../contracts/data.js';
import type { Branch, EncoderInputs, Head, Outputs } from '../contracts/modules.js';
import { normalizeImages } from '../data/batch.js';

/** Run a head on the outputs so far and add what it gives: one tensor under `name`, or its named outputs. */
export function addHeadOutputs(head: Head, outputs: Outputs, training: boolean, name: 'z' | 'p'): Outputs {
  const r = head.forward(outputs, training);
  if (r instanceof tf.Tensor) return { ...outputs, [name]: r };
  if (!r[name]) throw new Error(`a head in the ${name === 'z' ? 'head' : 'predictor'} slot returned ${Object.keys(r).join(', ')}, without '${name}'`);
  return { ...outputs, ...r };
}

/**
 * One batch through a branch: the encoder's `h` and `map`, the head's `z` (and whatever else it
 * names), and with `predictor` the predictor's `p`. `inputs` go to the encoder (`keep`).
 */
export function runBranch(branch: Branch, x: Tensor4D, training: boolean, predictor = true, inputs?: EncoderInputs): Outputs {
  let out: Outputs = inputs?.keep ? branch.encoder.forward(x, training, inputs) : branch.encoder.forward(x, training);
  out = addHeadOutputs(branch.head, out, training, 'z');
  if (predictor && branch.predictor) out = addHeadOutputs(branch.predictor, out, training, 'p');
  return out;
}

/**
 * Run a branch on views (un-normalised images): one forward pass per resolution. With `concat`,
 * the views of one size go through as one batch (batch-norm statistics over all of them, as
 * SimCLR's implementation does), and each output is split back per view when it is first read;
 * otherwise view by view. Multi-crop's 2 large and N small crops take two forward passes.
 * `keep[v]` (MAE's visible tokens) goes to the encoder with view v; views of one size are joined
 * only when all or none of them have one of the same width.
 * Returns the named outputs of each view, in view order.
 */
export function encodeViews(
  branch: Branch,
  views: Tensor[],
  info: DatasetInfo,
  training: boolean,
  concat: boolean,
  predictor = true,
  keep?: Array<Tensor2D | undefined>,
): Outputs[] {
  const norm = views.map((v) => normalizeImages(v as Tensor4D, info));
  const inputsOf = (i: number): EncoderInputs | undefined => (keep?.[i] ? { keep: keep[i] } : undefined);
  if (!concat) return norm.map((v, i) => runBranch(branch, v, training, predictor, inputsOf(i)));
  const out = new Array<Outputs>(views.length);
  const shapeOf = (i: number) => `${norm[i].shape.join('x')}/${keep?.[i]?.shape[1] ?? 'all'}`;
  for (const group of bySize(norm.map((_, i) => shapeOf(i)))) {
    if (group.length === 1) {
      out[group[0]] = runBranch(branch, norm[group[0]], training, predictor, inputsOf(group[0]));
      continue;
    }
    const kept = keep?.[group[0]] ? { keep: tf.concat(group.map((i) => keep[i]!)) as Tensor2D } : undefined;
    const joint = runBranch(
      branch,
      tf.concat(
        group.map((i) => norm[i]),
        0,
      ) as Tensor4D,
      training,
      predictor,
      kept,
    );
    group.forEach((i, j) => (out[i] = lazySlices(joint, j, group.length)));
  }
  return out;
}

/** Indices of the views grouped by their shape (and kept-token count), in order of first appearance. */
function bySize(shapes: string[]): number[][] {
  const groups = new Map<string, number[]>();
  shapes.forEach((k, i) => {
    groups.set(k, [...(groups.get(k) ?? []), i]);
  });
  return [...groups.values()];
}

/**
 * Named outputs made when first read and then kept: `make(name)` runs at most once per name, and
 * an output no plugin reads (the `map` of a contrastive task) is never made. For a plugin that
 * derives a branch's outputs from others (sliced, detached, put back in order).
 *
 * @example lazyOutputs(Object.keys(out), (name) => stopGradient(out[name]))
 */
export function lazyOutputs(names: string[], make: (name: string) => Tensor): Outputs {
  const outputs: Outputs = {};
  for (const name of names) {
    let made: Tensor | undefined;
    Object.defineProperty(outputs, name, { enumerable: true, get: () => (made ??= make(name)) });
  }
  return outputs;
}

/** View `j` of `n` of every output of a joint forward pass, split along the batch axis when first read. */
function lazySlices(joint: Outputs, j: number, n: number): Outputs {
  return lazyOutputs(Object.keys(joint), (name) => {
    const t = joint[name];
    const size = t.shape[0] / n;
    return tf.slice(t, [j * size, ...t.shape.slice(1).map(() => 0)], [size, ...t.shape.slice(1)]);
  });
}
