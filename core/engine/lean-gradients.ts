import type { Tensor } from '@tensorflow/tfjs-core';
import type * as tfc from '@tensorflow/tfjs-core';

/** The parts of tfjs-core 4.x's Engine (and its tape nodes) the lean backward pass uses. */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, Tensor>;
  /** before pruning: every input (the shape-only gradients need their shapes) */
  allInputs?: Record<string, Tensor>;
  outputs: Tensor[];
  saved?: Tensor[];
  gradient?: (dys: Array<Tensor | null>) => Record<string, () => Tensor>;
}
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T>(nameOrFn: string | (() => T), fn?: () => T): T;
  gradients(f: () => Tensor, xs: Tensor[], dy?: Tensor, allowNoGradients?: boolean): { value: Tensor; grads: Tensor[] };
  selfsupLean?: boolean;
  /** tfjs's own backward pass, kept for comparison (tests) */
  selfsupStockGradients?: EngineInternals['gradients'];
}

/**
 * A backward pass that frees memory as it goes. tfjs-core 4.22's `Engine.gradients` keeps, until the
 * whole backward pass is over, every tensor saved for it and the gradient of every intermediate
 * tensor of the forward pass (reshapes, adds, ... included): a ViT-tiny step held about 10x the
 * activations PyTorch does, and hit wasm's 4 GiB at 32 images. This one walks the same filtered
 * tape in the same order with the same gradient functions, and once a node's input gradients are
 * made it disposes what only that node needed: its saved tensors and its outputs' gradients (never
 * a gradient of `xs`, nor a `dy` the caller passed). Higher-order gradients (a gradient inside a
 * gradient) take the stock path. The values are those of the stock pass (the same operations).
 */
export function installLeanGradients(tf: typeof tfc): boolean {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.selfsupLean) return false;
  const stock = engine.gradients.bind(engine);
  registerShapeOnlyGradients(tf);
  engine.gradients = function leanGradients(f, xs, dy, allowNoGradients = false) {
    if (engine.state.gradientDepth > 0 || (dy != null && dy.dtype !== 'float32')) return stock(f, xs, dy, allowNoGradients);
    const y = engine.scopedRun(
      () => engine.startTape(),
      () => engine.endTape(),
      () => engine.tidy('forward', f),
    );
    if (!(y instanceof tf.Tensor)) throw new Error('The result y returned by f() must be a tensor.');
    const fullTape = engine.state.activeTape ?? [];
    const tape = filteredNodes(fullTape, xs, y);
    if (!allowNoGradients && tape.length === 0 && xs.length > 0) {
      throw new Error('Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.');
    }
    return engine.tidy('backward', () => {
      const acc = new Map<number, Tensor>();
      acc.set(y.id, dy ?? tf.ones(y.shape));
      const keepIds = new Set(xs.map((x) => x.id));
      if (dy != null) keepIds.add(y.id);
      for (let i = tape.length - 1; i >= 0; i--) {
        const node = tape[i];
        if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
        // the node's input gradients made in one scope: what a gradient function computes eagerly (a customGrad's
        // whole backward, Softmax's dy·y) is freed with it instead of living to the end of the pass
        current = node.allInputs; // the shape-only gradients read their inputs' shapes from here
        const dxs = engine.tidy(() => {
          const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
          const inputGradients = node.gradient!(dys);
          const made: Record<string, Tensor> = {};
          const taken = new Set<Tensor | null>(dys);
          for (const name in node.inputs) {
            if (!(name in inputGradients)) throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(inputGradients)}.`);
            const dx = inputGradients[name]();
            // a gradient that is a dy itself, or another input's, gets its own tensor: each is disposed on its own later
            made[name] = taken.has(dx) ? tf.clone(dx) : dx;
            taken.add(made[name]);
          }
          return made;
        });
        current = undefined;
        for (const name in node.inputs) {
          const dx = dxs[name];
          const x = node.inputs[name];
          if (dx.dtype !== 'float32')
            throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`);
          if (!tf.util.arraysEqual(dx.shape, x.shape))
            throw new Error(
              `Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
            );
          const before = acc.get(x.id);
          if (!before) acc.set(x.id, dx);
          else {
            acc.set(x.id, tf.add(before, dx));
            before.dispose();
            dx.dispose();
          }
        }
        // this node is done: what only it needed goes now, not at the end of the pass
        for (const t of node.saved ?? []) t.dispose();
        for (const o of node.outputs) {
          if (keepIds.has(o.id)) continue;
          acc.get(o.id)?.dispose();
          acc.delete(o.id);
        }
      }
      const grads = xs.map((x) => acc.get(x.id)!);
      for (const node of fullTape) for (const t of node.saved ?? []) t.dispose();
      engine.state.activeTape = null;
      return { value: y, grads };
    });
  };
  engine.selfsupLean = true;
  engine.selfsupStockGradients = stock;
  return true;
}

/**
 * The nodes of `tape` on a path from `xs` to `y`, each with only its inputs that depend on `xs`
 * (tfjs-core's `getFilteredNodesXToY`, which it does not export).
 */
function filteredNodes(tape: TapeNode[], xs: Tensor[], y: Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      nodesFromX.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const toY = new Set([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => toY.has(o.id))) {
      nodesToY.add(node.id);
      for (const t of Object.values(node.inputs)) toY.add(t.id);
    }
  }
  return tape
    .filter((n) => nodesFromX.has(n.id) && nodesToY.has(n.id))
    .map((n) => ({ ...n, allInputs: n.inputs, inputs: Object.fromEntries(Object.entries(n.inputs).filter(([, t]) => fromX.has(t.id))) }));
}

/** Run `f` with tfjs's own backward pass and gradient registrations (what the lean pass replaced), e.g. to compare the two. */
export function withStockGradients<T>(tf: typeof tfc, f: () => T): T {
  const engine = tf.engine() as unknown as EngineInternals;
  const lean = engine.gradients;
  if (!engine.selfsupStockGradients) return f();
  engine.gradients = engine.selfsupStockGradients;
  const shapeOnly = SHAPE_ONLY.map((k) => tf.getGradient(k));
  for (const k of SHAPE_ONLY) if (originals.has(k)) tf.registerGradient(originals.get(k)!);
  try {
    return f();
  } finally {
    engine.gradients = lean;
    for (const g of shapeOnly) if (g) tf.registerGradient(g);
  }
}

/**
 * Kernels whose stock gradient saves its inputs only to read their shapes: Reshape (every reshape
 * kept the tensor it reshaped alive until its gradient ran), Add and Sub (both operands, for
 * broadcasting: a residual connection kept both branches), Slice and Concat. In a ViT-tiny block
 * they held 40 of the 53 MB saved for the backward pass.
 */
const SHAPE_ONLY = ['Reshape', 'Add', 'Sub', 'Slice', 'Concat'] as const;
const originals = new Map<string, tfc.GradConfig>();
/** the inputs of the tape node whose gradient the lean pass is asking for */
let current: Record<string, Tensor> | undefined;

/**
 * Register those kernels' gradients without saving anything: the lean pass hands the node's input
 * tensors (disposed or not: only `.shape` is read) to the stock gradient function in their place.
 */
function registerShapeOnlyGradients(tf: typeof tfc): void {
  for (const kernelName of SHAPE_ONLY) {
    const stock = tf.getGradient(kernelName);
    if (!stock || originals.has(kernelName)) continue;
    originals.set(kernelName, stock);
    const inputNames = stock.inputsToSave ?? [];
    tf.registerGradient({
      kernelName,
      inputsToSave: [],
      gradFunc: (dy, _saved, attrs) => {
        if (!current) throw new Error(`the gradient of ${kernelName} needs selfsup's backward pass (lean-gradients.ts), not a gradient of a gradient`);
        const inputs = current;
        const standIns = stock.saveAllInputs ? Object.keys(inputs).map((k) => inputs[k]) : inputNames.map((k) => inputs[k]);
        return stock.gradFunc(dy, standIns, attrs);
      },
    });
  }
}
