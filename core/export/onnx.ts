import onnxProto from 'onnx-proto';
import { BatchDim, type AttrValue, type TensorRef, type TracedGraph, type TracedNode } from './trace.js';

const { onnx } = onnxProto;
type NodeProto = InstanceType<typeof onnx.NodeProto>;
type TensorProto = InstanceType<typeof onnx.TensorProto>;
const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

/** The opset written: ReduceMean and Squeeze take axes as an attribute / input as in 13, Softmax is per-axis. */
export const ONNX_OPSET = 13;

export interface OnnxExportOptions {
  /** graph name */
  name: string;
  /** key/value metadata written into the model (`metadata_props`) */
  metadata: Record<string, string>;
  producerVersion: string;
}

/**
 * Write a traced forward as an ONNX model (opset 13, IR 8). The input is `pixels` `[N, C, H, W]`
 * float32 (channels-first, as PyTorch and most ONNX consumers expect), transposed to the traced
 * graph's channels-last layout by the first node; convolutions and pools are wrapped in transposes
 * to NCHW and back (ONNX Runtime's optimizer cancels the pairs). The batch axis is dynamic (`N`):
 * batch-proportional shapes and attributes are computed from the input's shape.
 */
export function toOnnx(graph: TracedGraph, opts: OnnxExportOptions): Uint8Array {
  const b = new OnnxBuilder();
  const [, h, w, c] = graph.input.shape as number[];
  b.nodes.push(node('Transpose', ['pixels'], [graph.input.name], { perm: [0, 2, 3, 1] }));
  for (const [name, k] of graph.constants) b.initializer(name, k.values, k.shape, k.ref.dtype);
  graph.nodes.forEach((n, i) => emitNode(b, n, i));
  const outputs = Object.entries(graph.outputs).map(([name, r]) => {
    b.nodes.push(node('Identity', [r.name], [name]));
    return valueInfo(name, r.shape, r.dtype);
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'selfsup',
    producerVersion: opts.producerVersion,
    graph: onnx.GraphProto.create({
      name: opts.name,
      node: b.nodes,
      initializer: b.initializers,
      input: [valueInfo('pixels', [new BatchDim(1), c, h, w], 'float32')],
      output: outputs,
    }),
    metadataProps: Object.entries(opts.metadata).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}

class OnnxBuilder {
  nodes: NodeProto[] = [];
  initializers: TensorProto[] = [];
  private count = 0;
  private batchName?: string;

  fresh(hint: string): string {
    return `${hint}_${this.count++}`;
  }

  initializer(name: string, values: Float32Array | Int32Array | Uint8Array | BigInt64Array, shape: number[], dtype: string): string {
    const dataType = values instanceof BigInt64Array ? DT.INT64 : dtype === 'int32' ? DT.INT32 : dtype === 'bool' ? DT.BOOL : DT.FLOAT;
    const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
    this.initializers.push(onnx.TensorProto.create({ name, dims: shape, dataType, rawData: raw }));
    return name;
  }

  int64(values: number[], hint = 'i64'): string {
    return this.initializer(this.fresh(hint), BigInt64Array.from(values.map((v) => BigInt(v))), [values.length], 'int64');
  }

  scalarFloat(v: number): string {
    return this.initializer(this.fresh('f'), Float32Array.of(v), [], 'float32');
  }

  /** `[N]` as a 1-element int64 tensor, read from the graph input's shape. */
  batch(): string {
    if (!this.batchName) {
      const shape = this.fresh('shape');
      this.batchName = this.fresh('batch');
      this.nodes.push(node('Shape', ['pixels'], [shape]));
      this.nodes.push(node('Gather', [shape, this.int64([0])], [this.batchName], { axis: 0 }));
    }
    return this.batchName;
  }

  /** An int64 vector whose batch-proportional entries are computed from the input's batch size. */
  vector(values: Array<number | BatchDim>, hint: string): string {
    if (!values.some((v) => v instanceof BatchDim)) return this.int64(values as number[], hint);
    const parts = values.map((v) => {
      if (!(v instanceof BatchDim)) return this.int64([v]);
      if (v.k === 1) return this.batch();
      const out = this.fresh('nk');
      this.nodes.push(node('Mul', [this.batch(), this.int64([v.k])], [out]));
      return out;
    });
    const out = this.fresh(hint);
    this.nodes.push(node('Concat', parts, [out], { axis: 0 }));
    return out;
  }
}

/** an ONNX attribute: an int, ints, a string, or `{ f }` a float */
type Attr = number | number[] | string | { f: number };

function node(opType: string, input: string[], output: string[], attrs: Record<string, Attr> = {}): NodeProto {
  const attribute = Object.entries(attrs).map(([name, v]) => {
    if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: AT.STRING, s: new TextEncoder().encode(v) });
    if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: AT.INTS, ints: v });
    if (typeof v === 'object') return onnx.AttributeProto.create({ name, type: AT.FLOAT, f: v.f });
    return onnx.AttributeProto.create({ name, type: AT.INT, i: v });
  });
  return onnx.NodeProto.create({ opType, input, output, attribute, name: `${opType}_${output[0]}` });
}

function valueInfo(name: string, shape: Array<number | BatchDim>, dtype: string) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: dtype === 'int32' ? DT.INT32 : DT.FLOAT,
        shape: { dim: shape.map((d) => (d instanceof BatchDim ? { dimParam: d.k === 1 ? 'N' : `N*${d.k}` } : { dimValue: d })) },
      },
    },
  });
}

const UNARY: Record<string, string> = {
  Relu: 'Relu',
  Sigmoid: 'Sigmoid',
  Tanh: 'Tanh',
  Exp: 'Exp',
  Log: 'Log',
  Sqrt: 'Sqrt',
  Erf: 'Erf',
  Neg: 'Neg',
  Abs: 'Abs',
  Reciprocal: 'Reciprocal',
  Identity: 'Identity',
  Floor: 'Floor',
  Ceil: 'Ceil',
  Sign: 'Sign',
};
const BINARY: Record<string, string> = {
  Add: 'Add',
  AddV2: 'Add',
  Sub: 'Sub',
  Multiply: 'Mul',
  Mul: 'Mul',
  RealDiv: 'Div',
  Maximum: 'Max',
  Minimum: 'Min',
  Pow: 'Pow',
};
const REDUCE: Record<string, string> = { Mean: 'ReduceMean', Max: 'ReduceMax', Min: 'ReduceMin', Prod: 'ReduceProd' };

const num = (v: AttrValue, what: string): number => {
  if (typeof v !== 'number') throw new Error(`${what} is not a fixed number`);
  return v;
};
const pair = (v: AttrValue, what: string): [number, number] => (Array.isArray(v) ? [num(v[0], what), num(v[1] ?? v[0], what)] : [num(v, what), num(v, what)]);
const rankOf = (r: TensorRef) => r.shape.length;
const axesOf = (v: AttrValue, rank: number): number[] =>
  (Array.isArray(v) ? v : v === undefined || v === null ? [...Array(rank).keys()] : [v]).map((a) => ((num(a as AttrValue, 'an axis') % rank) + rank) % rank);

/** `[kh, kw]` explicit padding `[top, left, bottom, right]` from a tfjs `pad` attribute and the input's size. */
function pads(pad: AttrValue, inHW: [number, number], kernel: [number, number], stride: [number, number], dilation: [number, number]): number[] {
  if (Array.isArray(pad)) {
    const p = pad as number[][];
    return [p[1][0], p[2][0], p[1][1], p[2][1]];
  }
  if (typeof pad === 'number') return [pad, pad, pad, pad];
  if (pad === 'valid') return [0, 0, 0, 0];
  if (pad === 'same') {
    const total = [0, 1].map((i) => {
      const out = Math.ceil(inHW[i] / stride[i]);
      const eff = (kernel[i] - 1) * dilation[i] + 1;
      return Math.max(0, (out - 1) * stride[i] + eff - inHW[i]);
    });
    return [Math.floor(total[0] / 2), Math.floor(total[1] / 2), total[0] - Math.floor(total[0] / 2), total[1] - Math.floor(total[1] / 2)];
  }
  throw new Error(`padding ${JSON.stringify(pad)} cannot be exported`);
}

function emitNode(b: OnnxBuilder, n: TracedNode, index: number): void {
  const where = `${n.kernel} (node ${index})`;
  const input = (k: string) => {
    const e = n.inputs.find(([name]) => name === k);
    if (!e) throw new Error(`${where}: no input ${k}`);
    return e[1];
  };
  const out = n.outputs[0].name;
  const push = (op: string, ins: string[], attrs?: Record<string, Attr>, outName = out) => b.nodes.push(node(op, ins, [outName], attrs));
  const a = n.attrs;
  if (UNARY[n.kernel]) return void push(UNARY[n.kernel], [n.inputs[0][1].name]);
  if (BINARY[n.kernel]) return void push(BINARY[n.kernel], [input('a').name, input('b').name]);
  switch (n.kernel) {
    case 'Rsqrt': {
      const s = b.fresh('sqrt');
      push('Sqrt', [input('x').name], undefined, s);
      return void push('Reciprocal', [s]);
    }
    case 'Square':
      return void push('Mul', [input('x').name, input('x').name]);
    case 'SquaredDifference': {
      const d = b.fresh('diff');
      push('Sub', [input('a').name, input('b').name], undefined, d);
      return void push('Mul', [d, d]);
    }
    case 'Relu6':
      return void push('Clip', [input('x').name, b.scalarFloat(0), b.scalarFloat(6)]);
    case 'LeakyRelu':
      return void push('LeakyRelu', [input('x').name], { alpha: { f: num(a.alpha, 'alpha') } });
    case 'Elu':
      return void push('Elu', [input('x').name]);
    case 'Cast':
      return void push('Cast', [input('x').name], { to: a.dtype === 'int32' ? DT.INT32 : a.dtype === 'bool' ? DT.BOOL : DT.FLOAT });
    case 'Reshape':
      return void push('Reshape', [input('x').name, b.vector(a.shape as Array<number | BatchDim>, 'shape')]);
    case 'Transpose':
      return void push('Transpose', [input('x').name], { perm: (a.perm as number[]).map((p) => num(p, 'perm')) });
    case 'Softmax': {
      const x = input('logits');
      return void push('Softmax', [x.name], { axis: axesOf(a.dim ?? -1, rankOf(x))[0] });
    }
    case 'Concat': {
      const ins = n.inputs.map(([, r]) => r);
      return void push(
        'Concat',
        ins.map((r) => r.name),
        { axis: axesOf(a.axis, rankOf(ins[0]))[0] },
      );
    }
    case 'Tile':
      return void push('Tile', [input('x').name, b.vector(a.reps as Array<number | BatchDim>, 'reps')]);
    case 'Slice': {
      const x = input('x');
      const begin = (a.begin as AttrValue[]).map((v) => num(v, 'a slice begin'));
      const size = a.size as Array<number | BatchDim>;
      const ends = size.map((s, i) =>
        s instanceof BatchDim
          ? begin[i] === 0
            ? s
            : fail(`${where}: a batch-proportional slice that does not start at 0`)
          : s === -1
            ? 2 ** 53 - 1
            : begin[i] + s,
      );
      const axes = begin.map((_, i) => i);
      return void push('Slice', [x.name, b.int64(begin, 'starts'), b.vector(ends, 'ends'), b.int64(axes, 'axes')]);
    }
    case 'Sum': {
      const x = input('x');
      return void push('ReduceSum', [x.name, b.int64(axesOf(a.axis, rankOf(x)), 'axes')], { keepdims: a.keepDims ? 1 : 0 });
    }
    case 'BatchMatMul':
    case 'MatMul': {
      const x = input('a');
      const y = input('b');
      const t = (r: TensorRef, on: AttrValue) => {
        if (!on) return r.name;
        const rank = rankOf(r);
        const perm = [...Array(rank).keys()];
        [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
        const o = b.fresh('t');
        b.nodes.push(node('Transpose', [r.name], [o], { perm }));
        return o;
      };
      return void push('MatMul', [t(x, a.transposeA), t(y, a.transposeB)]);
    }
    case 'Conv2D': {
      const x = input('x');
      const filter = input('filter');
      if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC' && a.dataFormat !== 'channelsLast')
        throw new Error(`${where}: data format ${String(a.dataFormat)}`);
      const [kh, kw] = filter.shape as number[];
      const stride = pair(a.strides, 'strides');
      const dilation = pair(a.dilations ?? 1, 'dilations');
      const [, ih, iw] = x.shape as number[];
      // tfjs filter [kh, kw, in, out] -> ONNX [out, in, kh, kw]
      const w = b.fresh('filter_oihw');
      b.nodes.push(node('Transpose', [filter.name], [w], { perm: [3, 2, 0, 1] }));
      const xn = b.fresh('nchw');
      b.nodes.push(node('Transpose', [x.name], [xn], { perm: [0, 3, 1, 2] }));
      const yn = b.fresh('conv');
      b.nodes.push(
        node('Conv', [xn, w], [yn], { kernel_shape: [kh, kw], strides: stride, dilations: dilation, pads: pads(a.pad, [ih, iw], [kh, kw], stride, dilation) }),
      );
      return void push('Transpose', [yn], { perm: [0, 2, 3, 1] });
    }
    case 'MaxPool':
    case 'AvgPool': {
      const x = input('x');
      const k = pair(a.filterSize, 'filterSize');
      const stride = pair(a.strides, 'strides');
      const [, ih, iw] = x.shape as number[];
      const xn = b.fresh('nchw');
      b.nodes.push(node('Transpose', [x.name], [xn], { perm: [0, 3, 1, 2] }));
      const yn = b.fresh('pool');
      const extra: Record<string, Attr> = n.kernel === 'AvgPool' ? { count_include_pad: 0 } : {};
      b.nodes.push(
        node(n.kernel === 'MaxPool' ? 'MaxPool' : 'AveragePool', [xn], [yn], {
          kernel_shape: k,
          strides: stride,
          pads: pads(a.pad, [ih, iw], k, stride, [1, 1]),
          ...extra,
        }),
      );
      return void push('Transpose', [yn], { perm: [0, 2, 3, 1] });
    }
  }
  if (REDUCE[n.kernel]) {
    const x = input('x');
    return void push(REDUCE[n.kernel], [x.name], { axes: axesOf(a.axis ?? a.reductionIndices, rankOf(x)), keepdims: a.keepDims ? 1 : 0 });
  }
  throw new Error(
    `${where}: the tfjs kernel ${n.kernel} has no ONNX mapping in selfsup's exporter (core/export/onnx.ts); the encoder cannot be exported to ONNX`,
  );
}

function fail(message: string): never {
  throw new Error(message);
}
