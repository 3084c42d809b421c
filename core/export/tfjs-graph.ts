import { BatchDim, type AttrValue, type TensorRef, type TracedGraph, type TracedNode } from './trace.js';

/** A node of a TensorFlow GraphDef in its JSON form (what tfjs's graph-model `model.json` holds). */
interface GraphNode {
  name: string;
  op: string;
  input: string[];
  attr: Record<string, unknown>;
}

const DTYPES: Record<string, string> = { float32: 'DT_FLOAT', int32: 'DT_INT32', bool: 'DT_BOOL' };
const b64 = (s: string) => Buffer.from(s).toString('base64');
const ints = (v: number[]) => ({ list: { i: v.map(String) } });
const dtypeAttr = (dtype: string) => ({ type: DTYPES[dtype] ?? 'DT_FLOAT' });

const SAME_OP: Record<string, string> = {
  Relu: 'Relu',
  Relu6: 'Relu6',
  Sigmoid: 'Sigmoid',
  Tanh: 'Tanh',
  Exp: 'Exp',
  Log: 'Log',
  Sqrt: 'Sqrt',
  Rsqrt: 'Rsqrt',
  Square: 'Square',
  Erf: 'Erf',
  Neg: 'Neg',
  Abs: 'Abs',
  Reciprocal: 'Reciprocal',
  Identity: 'Identity',
  Floor: 'Floor',
  Ceil: 'Ceil',
  Sign: 'Sign',
  Elu: 'Elu',
  Add: 'AddV2',
  AddV2: 'AddV2',
  Sub: 'Sub',
  Mul: 'Mul',
  Multiply: 'Mul',
  SquaredDifference: 'SquaredDifference',
  RealDiv: 'RealDiv',
  Maximum: 'Maximum',
  Minimum: 'Minimum',
  Pow: 'Pow',
};
const REDUCE: Record<string, string> = { Mean: 'Mean', Sum: 'Sum', Max: 'Max', Min: 'Min', Prod: 'Prod' };

/**
 * Write a traced forward as a TensorFlow.js graph model (`tf.loadGraphModel`): `model.json` (a
 * GraphDef of TensorFlow ops, channels-last like the trace, input `pixels` `[N, H, W, C]`, outputs
 * named as the trace's) and one weight file holding every constant. Batch-proportional shapes are
 * computed from the input's shape, so any batch size runs.
 */
export function toTfjsGraphModel(
  graph: TracedGraph,
  metadata: Record<string, string>,
): { modelJson: Record<string, unknown>; weights: Uint8Array; weightsFile: string } {
  const w = new GraphWriter();
  w.nodes.push({
    name: 'pixels',
    op: 'Placeholder',
    input: [],
    attr: { dtype: dtypeAttr('float32'), shape: { shape: { dim: graph.input.shape.map((d) => ({ size: d instanceof BatchDim ? '-1' : String(d) })) } } },
  });
  w.alias.set(graph.input.name, 'pixels');
  for (const [name, c] of graph.constants) w.constant(name, c.values, c.shape, c.ref.dtype);
  graph.nodes.forEach((n, i) => emitNode(w, n, i));
  const outputs: Record<string, unknown> = {};
  for (const [name, r] of Object.entries(graph.outputs)) {
    w.nodes.push({ name, op: 'Identity', input: [w.ref(r.name)], attr: { T: dtypeAttr(r.dtype) } });
    outputs[name] = {
      name: `${name}:0`,
      dtype: DTYPES[r.dtype],
      tensorShape: { dim: r.shape.map((d) => ({ size: d instanceof BatchDim ? '-1' : String(d) })) },
    };
  }
  const weightsFile = 'weights.bin';
  const modelJson = {
    format: 'graph-model',
    generatedBy: `selfsup ${metadata.selfsup_version ?? ''}`.trim(),
    convertedBy: null,
    modelTopology: { node: w.nodes, library: {}, versions: { producer: 1 } },
    signature: {
      inputs: {
        pixels: {
          name: 'pixels:0',
          dtype: 'DT_FLOAT',
          tensorShape: { dim: graph.input.shape.map((d) => ({ size: d instanceof BatchDim ? '-1' : String(d) })) },
        },
      },
      outputs,
    },
    userDefinedMetadata: metadata,
    weightsManifest: [{ paths: [weightsFile], weights: w.specs }],
  };
  const total = w.buffers.reduce((s, b) => s + b.byteLength, 0);
  const weights = new Uint8Array(total);
  let offset = 0;
  for (const b of w.buffers) {
    weights.set(b, offset);
    offset += b.byteLength;
  }
  return { modelJson, weights, weightsFile };
}

class GraphWriter {
  nodes: GraphNode[] = [];
  specs: Array<{ name: string; shape: number[]; dtype: string }> = [];
  buffers: Uint8Array[] = [];
  /** trace name -> graph node name (sanitised, unique) */
  alias = new Map<string, string>();
  private used = new Set<string>(['pixels']);
  private count = 0;
  private batchName?: string;

  /** A valid, unique TensorFlow node name for a trace name. */
  ref(traceName: string): string {
    let n = this.alias.get(traceName);
    if (!n) {
      const base = traceName.replace(/[^A-Za-z0-9_.\-/]/g, '_').replace(/^[^A-Za-z0-9.]/, 'n');
      n = base;
      for (let i = 1; this.used.has(n); i++) n = `${base}_${i}`;
      this.used.add(n);
      this.alias.set(traceName, n);
    }
    return n;
  }

  fresh(hint: string): string {
    return this.ref(`${hint}_${this.count++}`);
  }

  constant(traceName: string, values: Float32Array | Int32Array | Uint8Array, shape: number[], dtype: string): string {
    const name = this.ref(traceName);
    this.nodes.push({
      name,
      op: 'Const',
      input: [],
      attr: { value: { tensor: { dtype: DTYPES[dtype], tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } }, dtype: dtypeAttr(dtype) },
    });
    this.specs.push({ name, shape, dtype });
    this.buffers.push(new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice());
    return name;
  }

  int32(values: number[], hint = 'i32'): string {
    return this.constant(this.fresh(hint), Int32Array.from(values), [values.length], 'int32');
  }

  scalar(v: number): string {
    return this.constant(this.fresh('f'), Float32Array.of(v), [], 'float32');
  }

  /** `[N]` int32, from the input's shape. */
  batch(): string {
    if (!this.batchName) {
      const shape = this.fresh('shape');
      this.nodes.push({ name: shape, op: 'Shape', input: ['pixels'], attr: { T: dtypeAttr('float32'), out_type: dtypeAttr('int32') } });
      this.batchName = this.fresh('batch');
      this.nodes.push({
        name: this.batchName,
        op: 'Slice',
        input: [shape, this.int32([0]), this.int32([1])],
        attr: { T: dtypeAttr('int32'), Index: dtypeAttr('int32') },
      });
    }
    return this.batchName;
  }

  /** An int32 vector whose batch-proportional entries are computed from the input's batch size. */
  vector(values: Array<number | BatchDim>, hint: string): string {
    if (!values.some((v) => v instanceof BatchDim)) return this.int32(values as number[], hint);
    const parts = values.map((v) => {
      if (!(v instanceof BatchDim)) return this.int32([v]);
      if (v.k === 1) return this.batch();
      const name = this.fresh('nk');
      this.nodes.push({ name, op: 'Mul', input: [this.batch(), this.int32([v.k])], attr: { T: dtypeAttr('int32') } });
      return name;
    });
    const name = this.fresh(hint);
    this.nodes.push({
      name,
      op: 'ConcatV2',
      input: [...parts, this.int32([0])],
      attr: { T: dtypeAttr('int32'), N: { i: String(parts.length) }, Tidx: dtypeAttr('int32') },
    });
    return name;
  }
}

const num = (v: AttrValue, what: string): number => {
  if (typeof v !== 'number') throw new Error(`${what} is not a fixed number`);
  return v;
};
const pair = (v: AttrValue, what: string): [number, number] => (Array.isArray(v) ? [num(v[0], what), num(v[1] ?? v[0], what)] : [num(v, what), num(v, what)]);
const axesOf = (v: AttrValue, rank: number): number[] =>
  (Array.isArray(v) ? v : v === undefined || v === null ? [...Array(rank).keys()] : [v]).map((a) => ((num(a as AttrValue, 'an axis') % rank) + rank) % rank);

/** tfjs's `pad` attribute as TensorFlow's `padding` (and `explicit_paddings`). */
function padding(pad: AttrValue): Record<string, unknown> {
  if (pad === 'same') return { padding: { s: b64('SAME') } };
  if (pad === 'valid') return { padding: { s: b64('VALID') } };
  const p =
    typeof pad === 'number'
      ? [
          [0, 0],
          [pad, pad],
          [pad, pad],
          [0, 0],
        ]
      : (pad as number[][]);
  if (!Array.isArray(p)) throw new Error(`padding ${JSON.stringify(pad)} cannot be exported`);
  return { padding: { s: b64('EXPLICIT') }, explicit_paddings: ints(p.flat()) };
}

function emitNode(w: GraphWriter, n: TracedNode, index: number): void {
  const where = `${n.kernel} (node ${index})`;
  const input = (k: string): TensorRef => {
    const e = n.inputs.find(([name]) => name === k);
    if (!e) throw new Error(`${where}: no input ${k}`);
    return e[1];
  };
  const out = n.outputs[0];
  const T = { T: dtypeAttr(out.dtype) };
  const push = (op: string, ins: string[], attr: Record<string, unknown> = {}) =>
    w.nodes.push({ name: w.ref(out.name), op, input: ins, attr: { ...T, ...attr } });
  const a = n.attrs;
  if (SAME_OP[n.kernel])
    return void push(
      SAME_OP[n.kernel],
      n.inputs.map(([, r]) => w.ref(r.name)),
    );
  if (REDUCE[n.kernel]) {
    const x = input('x');
    return void push(REDUCE[n.kernel], [w.ref(x.name), w.int32(axesOf(a.axis ?? a.reductionIndices, x.shape.length), 'axes')], {
      keep_dims: { b: Boolean(a.keepDims) },
      Tidx: dtypeAttr('int32'),
    });
  }
  switch (n.kernel) {
    case 'LeakyRelu':
      return void push('LeakyRelu', [w.ref(input('x').name)], { alpha: { f: num(a.alpha, 'alpha') } });
    case 'Cast':
      return void push('Cast', [w.ref(input('x').name)], { SrcT: dtypeAttr(input('x').dtype), DstT: dtypeAttr(String(a.dtype)) });
    case 'Reshape':
      return void push('Reshape', [w.ref(input('x').name), w.vector(a.shape as Array<number | BatchDim>, 'shape')], { Tshape: dtypeAttr('int32') });
    case 'Transpose':
      return void push(
        'Transpose',
        [
          w.ref(input('x').name),
          w.int32(
            (a.perm as number[]).map((p) => num(p, 'perm')),
            'perm',
          ),
        ],
        { Tperm: dtypeAttr('int32') },
      );
    case 'Softmax': {
      const x = input('logits');
      if (axesOf(a.dim ?? -1, x.shape.length)[0] !== x.shape.length - 1) throw new Error(`${where}: a softmax over another axis than the last`);
      return void push('Softmax', [w.ref(x.name)]);
    }
    case 'Concat': {
      const ins = n.inputs.map(([, r]) => r);
      return void push('ConcatV2', [...ins.map((r) => w.ref(r.name)), w.int32([axesOf(a.axis, ins[0].shape.length)[0]], 'axis')], {
        N: { i: String(ins.length) },
        Tidx: dtypeAttr('int32'),
      });
    }
    case 'Tile':
      return void push('Tile', [w.ref(input('x').name), w.vector(a.reps as Array<number | BatchDim>, 'reps')], { Tmultiples: dtypeAttr('int32') });
    case 'Slice': {
      const begin = (a.begin as AttrValue[]).map((v) => num(v, 'a slice begin'));
      return void push('Slice', [w.ref(input('x').name), w.int32(begin, 'begin'), w.vector(a.size as Array<number | BatchDim>, 'size')], {
        Index: dtypeAttr('int32'),
      });
    }
    case 'BatchMatMul':
      return void push('BatchMatMulV2', [w.ref(input('a').name), w.ref(input('b').name)], {
        adj_x: { b: Boolean(a.transposeA) },
        adj_y: { b: Boolean(a.transposeB) },
      });
    case 'Conv2D': {
      if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC' && a.dataFormat !== 'channelsLast')
        throw new Error(`${where}: data format ${String(a.dataFormat)}`);
      const [sh, sw] = pair(a.strides, 'strides');
      const [dh, dw] = pair(a.dilations ?? 1, 'dilations');
      return void push('Conv2D', [w.ref(input('x').name), w.ref(input('filter').name)], {
        strides: ints([1, sh, sw, 1]),
        dilations: ints([1, dh, dw, 1]),
        data_format: { s: b64('NHWC') },
        ...padding(a.pad),
      });
    }
    case 'MaxPool':
    case 'AvgPool': {
      const [kh, kw] = pair(a.filterSize, 'filterSize');
      const [sh, sw] = pair(a.strides, 'strides');
      const pad = padding(a.pad);
      if ((pad.padding as { s: string }).s === b64('EXPLICIT')) throw new Error(`${where}: explicit pool padding cannot be exported to tfjs`);
      return void push(n.kernel, [w.ref(input('x').name)], {
        ksize: ints([1, kh, kw, 1]),
        strides: ints([1, sh, sw, 1]),
        data_format: { s: b64('NHWC') },
        ...pad,
      });
    }
  }
  throw new Error(
    `${where}: the tfjs kernel ${n.kernel} has no graph-model mapping in selfsup's exporter (core/export/tfjs-graph.ts); the encoder cannot be exported to tfjs`,
  );
}
