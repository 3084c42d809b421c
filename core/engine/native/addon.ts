import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { packageRoot } from '../../package-root.js';

/**
 * selfsup's native CPU kernels (native/src, a Node-API addon on oneDNN, built at install by
 * native/build.mjs). Every function is synchronous and works on the caller's typed arrays in
 * place: outputs are allocated by the caller at their final size.
 */
export interface NativeAddon {
  /** kind 0: x, filter -> y; 1: dy, filter -> dx; 2: x, dy -> dfilter. shape: B H W CI OH OW CO KH KW SH SW DH DW PT PL PB PR */
  conv2d(kind: 0 | 1 | 2, a: Float32Array, b: Float32Array, out: Float32Array, shape: Int32Array): void;
  matmul(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    batchA: number,
    batchB: number,
    m: number,
    k: number,
    n: number,
    transA: boolean,
    transB: boolean,
  ): void;
  unary(op: number, x: Float32Array, y: Float32Array, alpha: number): void;
  /** mode: 0 same shapes, 1/2 b/a a scalar, 3/4 b/a of [outer, inner] repeated along mid of the output [outer, mid, inner] */
  binary(op: number, mode: number, a: Float32Array, b: Float32Array, out: Float32Array, mid: number, inner: number): void;
  /** x [outer, mid, inner] reduced over mid -> out [outer, inner] */
  reduce(op: number, x: Float32Array, out: Float32Array, outer: number, mid: number, inner: number): void;
  /** x [outer, mid, inner] reversed along mid */
  reverse(x: Float32Array, out: Float32Array, outer: number, mid: number, inner: number): void;
  /** out (outShape) = value, with x (shape) placed at offset `before` */
  pad(x: Float32Array, out: Float32Array, shape: Int32Array, before: Int32Array, outShape: Int32Array, value: number): void;
  slice(x: Float32Array, out: Float32Array, shape: Int32Array, begin: Int32Array, size: Int32Array): void;
  transpose(x: Float32Array, out: Float32Array, shape: Int32Array, perm: Int32Array): void;
  softmax(x: Float32Array, y: Float32Array, rows: number, cols: number): void;
  batchNormTrain(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    m: number,
    c: number,
    eps: number,
    relu: boolean,
  ): void;
  batchNormTrainGrad(
    dy: Float32Array,
    x: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    gamma: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    m: number,
    c: number,
    eps: number,
    relu: boolean,
  ): void;
  /** x [m, d] -> y, and each row's mean and rstd (1 / sqrt(var + eps)) */
  layerNorm(
    x: Float32Array,
    w: Float32Array,
    b: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    m: number,
    d: number,
    eps: number,
  ): void;
  layerNormGrad(
    dy: Float32Array,
    x: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    w: Float32Array,
    dx: Float32Array,
    dw: Float32Array,
    db: Float32Array,
    m: number,
    d: number,
  ): void;
  /** Adam's update (core/engine/adam-kernel.ts); h: lr, beta1, 1 - beta1, beta2, 1 - beta2, eps, weightDecay, lr·weightDecay, c1, c2 (the differences and the product rounded once from double, as the composed ops' scalars) */
  adamStep(
    p: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    pOut: Float32Array,
    mOut: Float32Array,
    vOut: Float32Array,
    h: Float32Array,
    decoupled: boolean,
  ): void;
  setThreads(n: number): void;
  /** threads, oneDNN's version, the ISA it runs on, the implementations its primitives chose so far */
  info(): { threads: number; onednn: string; isa: string; implementations: string };
}

export type AddonLoad = { ok: true; addon: NativeAddon; file: string } | { ok: false; reason: string };

/**
 * Load the addon: `SELFSUP_NATIVE_ADDON` names the file (a path that does not exist hides the
 * addon, as the fallback test does), else native/build/selfsup_native.node of this package.
 * When it is missing, the reason native/build.mjs recorded (native/build/unavailable.txt) says why.
 */
export function loadNativeAddon(): AddonLoad {
  if (process.env.SELFSUP_NATIVE === '0') return { ok: false, reason: 'turned off (SELFSUP_NATIVE=0)' };
  let root: string | undefined;
  try {
    root = packageRoot();
  } catch {
    root = undefined; // not inside the selfsup package: only SELFSUP_NATIVE_ADDON can name the addon
  }
  const file = process.env.SELFSUP_NATIVE_ADDON || (root ? path.join(root, 'native', 'build', 'selfsup_native.node') : '');
  if (!file || !fs.existsSync(file)) {
    const note = root ? path.join(root, 'native', 'build', 'unavailable.txt') : '';
    const why = !process.env.SELFSUP_NATIVE_ADDON && note && fs.existsSync(note) ? fs.readFileSync(note, 'utf8').trim() : '';
    return {
      ok: false,
      reason: why
        ? `addon not built: ${why}`
        : `addon not found${file ? ` at ${file}` : ''} (build it with: node native/build.mjs; it needs g++ and libdnnl-dev)`,
    };
  }
  try {
    const addon = createRequire(import.meta.url)(file) as NativeAddon;
    return { ok: true, addon, file };
  } catch (e) {
    return { ok: false, reason: `addon cannot load: ${(e as Error).message.split('\n')[0]}` };
  }
}
