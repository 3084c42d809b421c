import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../cli/api.js';
import { BufferPool, NATIVE_BACKEND, loadNativeAddon, registerNativeBackend } from '../../../core/engine/index.js';
import { randn } from '../../helpers.js';

describe('BufferPool (the native backend recycles dead outputs)', () => {
  it('a released buffer is taken again for the same length, not for another', () => {
    const pool = new BufferPool(1 << 20);
    const a = pool.take(100);
    pool.held(a);
    pool.released(a);
    expect(pool.idleBytes).toBe(400);
    expect(pool.take(99)).not.toBe(a);
    expect(pool.take(100)).toBe(a);
    expect(pool.idleBytes).toBe(0);
  });

  it('never recycles a buffer that was read, viewed, still held by another tensor, or not its own', () => {
    const pool = new BufferPool(1 << 20);
    const read = pool.take(10);
    pool.held(read);
    pool.pin(read);
    pool.released(read);
    const viewed = pool.take(10);
    pool.held(viewed);
    pool.held(viewed.subarray(2, 5));
    pool.released(viewed);
    const twice = pool.take(10);
    pool.held(twice);
    pool.held(twice);
    pool.released(twice);
    expect(pool.idleBytes).toBe(0);
    pool.released(twice);
    expect(pool.idleBytes).toBe(40);
    const foreign = new Float32Array(10);
    pool.held(foreign);
    pool.released(foreign);
    expect(pool.idleBytes).toBe(40);
    expect(pool.take(10)).toBe(twice);
    expect(pool.take(10)).not.toBe(read);
  });

  it('keeps at most maxFreeBytes idle', () => {
    const pool = new BufferPool(1000);
    const bufs = [pool.take(200), pool.take(200)];
    for (const b of bufs) pool.held(b);
    for (const b of bufs) pool.released(b);
    expect(pool.idleBytes).toBe(800);
  });
});

const load = loadNativeAddon();
const required = process.env.SELFSUP_REQUIRE_NATIVE === '1';
if (!load.ok && !required) console.warn(`native pool test skipped: ${load.ok ? '' : load.reason}`);

describe.skipIf(!load.ok && !required)('the native backend with recycled buffers', () => {
  const N = 100_000;
  const valuesOf = (t: tf.Tensor) => (tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(t.dataId).values;
  beforeAll(async () => {
    if (!load.ok) throw new Error(load.reason);
    await registerNativeBackend(load.addon, 2);
    await tf.setBackend(NATIVE_BACKEND);
  });

  it('a disposed output buffer is reused by the next output of its size', () => {
    const x = tf.tensor1d(randn([N], 1));
    const a = tf.neg(x);
    const buf = valuesOf(a);
    a.dispose();
    const b = tf.exp(x);
    expect(valuesOf(b)).toBe(buf);
    expect(b.dataSync()[0]).toBeCloseTo(Math.exp(randn([N], 1)[0]), 4);
    tf.dispose([x, b]);
  });

  it('values read with dataSync inside a tidy stay as they were while later ops run', () => {
    const xs = randn([N], 2);
    const x = tf.tensor1d(xs);
    const v = tf.tidy(() => tf.neg(x).dataSync());
    for (let i = 0; i < 5; i++) tf.tidy(() => tf.mul(x, i + 2));
    expect(v[0]).toBe(-xs[0]);
    expect(v[N - 1]).toBe(-xs[N - 1]);
    x.dispose();
  });

  it('a tensor that views an output (a cpu kernel slicing with subarray) keeps its values after the output dies', () => {
    const xs = randn([4, N / 4], 3);
    const x = tf.tensor2d(xs, [4, N / 4]);
    const y = tf.neg(x);
    const parts = tf.unstack(y);
    // cpu's Unpack slices rows with subarray: a view of y's buffer
    expect(valuesOf(parts[3]).buffer).toBe(valuesOf(y).buffer);
    y.dispose();
    for (let i = 0; i < 5; i++) tf.tidy(() => tf.mul(x, i + 2));
    const last = parts[3].dataSync();
    expect(last[0]).toBe(-xs[3 * (N / 4)]);
    expect(last[N / 4 - 1]).toBe(-xs[N - 1]);
    tf.dispose([x, ...parts]);
  });
});
