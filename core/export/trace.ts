import { tf, type Tensor, type Tensor4D } from '../engine/tf.js';

/** A number in a traced attribute (a shape, a slice size, tile reps) that is `k` times the batch size. */
export class BatchDim {
  constructor(readonly k: number) {}
}

/** An attribute value of a traced kernel, with its batch-proportional numbers as `BatchDim`. */
export type AttrValue = number | string | boolean | null | undefined | BatchDim | AttrValue[] | { [key: string]: AttrValue };

/** A tensor of the traced graph: the input, a kernel's output, or a constant. */
export interface TensorRef {
  name: string;
  dtype: string;
  /** the shape, its batch-proportional dimensions as `BatchDim` */
  shape: Array<number | BatchDim>;
}

/** One kernel call of the traced forward that depends on the input (the rest is folded into constants). */
export interface TracedNode {
  /** the tfjs kernel name (`Conv2D`, `BatchMatMul`, `Mean`, ...) */
  kernel: string;
  /** the kernel's inputs by the kernel's own input names (`x`, `filter`, `a`, `b`; `0`, `1`... for Concat) */
  inputs: Array<[string, TensorRef]>;
  attrs: Record<string, AttrValue>;
  outputs: TensorRef[];
}

export interface Constant {
  ref: TensorRef;
  values: Float32Array | Int32Array | Uint8Array;
  shape: number[];
}

/** A forward pass as a graph: `input` (`[N, H, W, C]` float32) through `nodes` to the named `outputs`. */
export interface TracedGraph {
  input: TensorRef;
  nodes: TracedNode[];
  constants: Map<string, Constant>;
  outputs: Record<string, TensorRef>;
}

/** The two batch sizes traced: numbers that differ between them are batch-proportional. */
const BATCHES = [2, 3] as const;

/**
 * Trace `forward` (eval mode: no gradient tape, no state updates expected) into a graph by recording
 * the kernels tfjs runs for it. A kernel whose inputs depend on the input image tensor is a node; the
 * others (weights, batch-norm scales, scalars) fold into constants, their values read as they are
 * made, unless their result's shape depends on the batch (the cls token tiled N times: then they are
 * nodes too). The forward is traced at two batch sizes so that shapes and attributes proportional
 * to the batch (a reshape to `[N, T, D]`) are known as such. Kernels are recorded at the outermost
 * level only (a kernel that runs other kernels is one node); a `customGrad` op is recorded as the
 * kernels of its forward. The trace runs on the current backend.
 */
export function traceForward(forward: (x: Tensor4D) => Record<string, Tensor>, imageShape: [number, number, number]): TracedGraph {
  const [a, b] = BATCHES.map((n, i) => traceOnce(forward, [n, ...imageShape], i === 0));
  if (a.calls.length !== b.calls.length || a.calls.some((n, i) => n.kernel !== b.calls[i].kernel))
    throw new Error(
      `the forward runs different kernels at batch sizes ${BATCHES.join(' and ')} (${a.calls.length} and ${b.calls.length}): it cannot be exported as one graph`,
    );
  const merge = (x: TensorRef, y: TensorRef, where: string): TensorRef => ({ ...x, shape: mergeNumbers(x.shape, y.shape, where) as Array<number | BatchDim> });
  const dynamic = new Set<string>([a.input.name]);
  const nodes: TracedNode[] = [];
  const constants = new Map<string, Constant>();
  a.calls.forEach((n, i) => {
    const m = b.calls[i];
    const where = `${n.kernel} (kernel ${i})`;
    n.inputs.forEach(([k, r], j) => {
      if (m.inputs[j]?.[1].name !== r.name) throw new Error(`${where}: its input ${k} differs between batch sizes`);
    });
    const outputs = n.outputs.map((o, j) => merge(o, m.outputs[j], where));
    const batchShaped = outputs.some((o) => o.shape.some((d) => d instanceof BatchDim));
    if (!batchShaped && !n.inputs.some(([, r]) => dynamic.has(r.name))) return; // folded: a constant where a node uses it
    for (const o of outputs) dynamic.add(o.name);
    for (const [, r] of n.inputs) {
      if (dynamic.has(r.name) || constants.has(r.name)) continue;
      const values = a.values.get(r.name);
      if (!values) throw new Error(`${where}: the value of its input ${r.name} was not recorded`);
      constants.set(r.name, { ref: r, values, shape: r.shape as number[] });
    }
    nodes.push({
      kernel: n.kernel,
      inputs: n.inputs.map(([k, r], j) => [k, merge(r, m.inputs[j][1], where)]),
      attrs: mergeNumbers(n.attrs, m.attrs, where) as Record<string, AttrValue>,
      outputs,
    });
  });
  const outputs: Record<string, TensorRef> = {};
  for (const [k, r] of Object.entries(a.outputs)) {
    const s = b.outputs[k];
    if (!s || s.name !== r.name) throw new Error(`output ${k} differs between batch sizes`);
    if (!dynamic.has(r.name) || r.name === a.input.name) throw new Error(`output ${k} does not depend on the input: nothing to export`);
    outputs[k] = merge(r, s, `output ${k}`);
  }
  return prune({ input: merge(a.input, b.input, 'input'), nodes, constants, outputs });
}

/** Drop the nodes and constants no output depends on (the forward may compute more than it returns). */
function prune(g: TracedGraph): TracedGraph {
  const needed = new Set(Object.values(g.outputs).map((r) => r.name));
  const kept: TracedNode[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (!n.outputs.some((o) => needed.has(o.name))) continue;
    kept.push(n);
    for (const [, r] of n.inputs) needed.add(r.name);
  }
  const constants = new Map([...g.constants].filter(([name]) => needed.has(name)));
  return { ...g, nodes: kept.reverse(), constants };
}

/** Numbers equal in both traces stay; those that differ must be k * batch (then a `BatchDim`). */
function mergeNumbers(x: unknown, y: unknown, where: string): AttrValue {
  if (typeof x === 'number' && typeof y === 'number') {
    if (x === y) return x;
    const k = (y - x) / (BATCHES[1] - BATCHES[0]);
    if (!Number.isInteger(k) || x !== k * BATCHES[0])
      throw new Error(`${where}: a number (${x} at batch ${BATCHES[0]}, ${y} at ${BATCHES[1]}) is not proportional to the batch size`);
    return new BatchDim(k);
  }
  if (Array.isArray(x) && Array.isArray(y)) {
    if (x.length !== y.length) throw new Error(`${where}: an attribute's length depends on the batch size`);
    return x.map((v, i) => mergeNumbers(v, y[i], where));
  }
  if (x && y && typeof x === 'object' && typeof y === 'object') {
    const out: Record<string, AttrValue> = {};
    for (const k of Object.keys(x)) out[k] = mergeNumbers((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], where);
    return out;
  }
  if (x !== y) throw new Error(`${where}: an attribute (${String(x)} / ${String(y)}) depends on the batch size`);
  return x as AttrValue;
}

interface TraceRun {
  input: TensorRef;
  /** every outermost kernel call, in order */
  calls: Array<{ kernel: string; inputs: Array<[string, TensorRef]>; attrs: Record<string, unknown>; outputs: TensorRef[] }>;
  /** (with `capture`) the values of every tensor not derived from the input: leaves (weights, scalars) and the outputs of calls on them */
  values: Map<string, Float32Array | Int32Array | Uint8Array>;
  outputs: Record<string, TensorRef>;
}

type Engine = { runKernelFunc: (params: Record<string, unknown>) => Tensor | Tensor[] };

/**
 * Run `forward` once on a random batch of `shape`, recording each outermost kernel call. Tensors are
 * named deterministically (`input`; `t<call>_<output>`; a variable by its name; another leaf
 * `c<k>` in the order first used), so that two traces name the same tensors alike.
 */
function traceOnce(forward: (x: Tensor4D) => Record<string, Tensor>, shape: number[], capture: boolean): TraceRun {
  const engine = tf.engine() as unknown as Engine;
  const original = engine.runKernelFunc;
  const names = new Map<number, string>(); // tensor id -> name
  const fromInput = new Set<number>();
  const values = new Map<string, Float32Array | Int32Array | Uint8Array>();
  const used = new Set<string>();
  let leaves = 0;
  const ref = (t: Tensor, name: string): TensorRef => ({ name, dtype: t.dtype, shape: t.shape.slice() });
  const keepValue = (t: Tensor, name: string) => {
    if (capture && !fromInput.has(t.id)) values.set(name, t.dataSync() as Float32Array | Int32Array | Uint8Array);
  };
  const nameOf = (t: Tensor): string => {
    let name = names.get(t.id);
    if (name === undefined) {
      const base = t instanceof tf.Variable ? t.name : `c${leaves++}`;
      name = base;
      for (let i = 1; used.has(name); i++) name = `${base}#${i}`;
      used.add(name);
      names.set(t.id, name);
      keepValue(t, name);
    }
    return name;
  };
  let depth = 0;
  let run: TraceRun | undefined;
  tf.tidy(() => {
    const x = tf.randomUniform(shape as [number, number, number, number], 0, 1, 'float32', 7) as Tensor4D;
    names.set(x.id, 'input');
    fromInput.add(x.id);
    const calls: TraceRun['calls'] = [];
    engine.runKernelFunc = function (params: Record<string, unknown>) {
      const kernel = params.kernelName as string | undefined;
      if (!kernel || depth > 0) return original.call(this, params);
      const inputs = Object.entries((params.inputs ?? {}) as Record<string, Tensor>).filter(([, t]) => t != null);
      const refs = inputs.map(([k, t]) => [k, ref(t, nameOf(t))] as [string, TensorRef]);
      depth++;
      let out: Tensor | Tensor[];
      try {
        out = original.call(this, params);
      } finally {
        depth--;
      }
      const outs = Array.isArray(out) ? out : [out];
      const derived = inputs.some(([, t]) => fromInput.has(t.id));
      outs.forEach((t, j) => {
        const name = `t${calls.length}_${j}`;
        names.set(t.id, name);
        used.add(name);
        if (derived) fromInput.add(t.id);
        else keepValue(t, name);
      });
      calls.push({
        kernel,
        inputs: refs,
        attrs: structuredClone((params.attrs ?? {}) as Record<string, unknown>),
        outputs: outs.map((t) => ref(t, names.get(t.id)!)),
      });
      return out;
    };
    let result: Record<string, Tensor>;
    try {
      result = forward(x);
    } finally {
      engine.runKernelFunc = original;
    }
    const outputs: Record<string, TensorRef> = {};
    for (const [k, t] of Object.entries(result)) outputs[k] = ref(t, nameOf(t));
    run = { input: ref(x, 'input'), calls, values, outputs };
  });
  return run!;
}
