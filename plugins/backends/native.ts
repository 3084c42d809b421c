import { Type } from '@sinclair/typebox';
import { definePlugin, tf } from '../../core/index.js';
import { NATIVE_BACKEND, cpuThreads, prepareNativeBackend } from '../../core/engine/index.js';

/**
 * selfsup's native CPU backend: tfjs-backend-cpu's tensors (plain typed arrays in Node's memory, no
 * 4 GiB ceiling) with the hot kernels in a Node-API addon (native/src): convolutions and both
 * gradients and matrix products on oneDNN (the library PyTorch's CPU convolutions run on, which
 * picks AVX2, AVX-512 or AMX at run time), and element-wise ops, reductions, transpose, softmax and
 * training batch norm as native loops, all on OpenMP threads. The addon is built at install when
 * g++ and oneDNN's headers are there (Debian/Ubuntu: apt-get install g++ libdnnl-dev; then
 * `node node_modules/selfsup/native/build.mjs`, or `npm rebuild`); otherwise `auto` takes wasm
 * and says why. SELFSUP_THREADS=N sets the threads (default one per core); SELFSUP_NATIVE=0 hides it.
 *
 * @example SELFSUP_THREADS=2 selfsup train --preset simclr --backend native
 */
export default definePlugin({
  kind: 'backend',
  name: 'native',
  description: 'native CPU kernels (oneDNN + OpenMP, built at install when g++ and libdnnl-dev are present)',
  options: Type.Object({}),
  create: () => {
    let prepared: Awaited<ReturnType<typeof prepareNativeBackend>> | undefined;
    return {
      // above wasm (measured faster on every case of `selfsup bench`), below tensorflow (libtensorflow, a user's explicit install)
      priority: 15,
      async probe() {
        prepared = await prepareNativeBackend(cpuThreads(['SELFSUP_THREADS']));
        return prepared.ok ? { ok: true as const } : { ok: false as const, reason: prepared.reason };
      },
      async init() {
        if (!prepared?.ok) throw new Error('native backend: probe first');
        if (!(await tf.setBackend(NATIVE_BACKEND))) throw new Error(`tf.setBackend("${NATIVE_BACKEND}") failed`);
        const i = prepared.addon.info();
        return {
          name: NATIVE_BACKEND,
          details: `oneDNN ${i.onednn} on ${i.isa}, ${i.threads} thread${i.threads === 1 ? '' : 's'} (SELFSUP_THREADS), ${prepared.kernels.length} native kernels`,
        };
      },
    };
  },
});
