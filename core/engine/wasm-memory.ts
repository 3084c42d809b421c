import { EnvironmentError } from '../errors.js';
/**
 * Make tfjs-backend-wasm fail loudly when its memory is exhausted. wasm32 memory ends at 4 GiB;
 * past it Emscripten's `malloc` returns 0, and tfjs-backend-wasm 4.22 uses that as the address of
 * the new tensor: it overwrites memory from address 0 and the process hangs or computes garbage
 * (seen with ResNet-18 at batch 256). After this, such an allocation throws an error that says what
 * to change. Returns false when the backend has no `_malloc` to wrap.
 */
export function guardWasmMalloc(backend: object): boolean {
  type Malloc = (n: number) => number;
  const mod = (backend as { wasm?: { _malloc?: Malloc; asm?: { malloc?: Malloc }; selfsupGuarded?: boolean; HEAPU8?: { length: number } } }).wasm;
  // the export itself: Module._malloc starts as a stub that replaces itself by it on first call
  const malloc = mod?.asm?.malloc;
  if (!mod || !malloc) return false;
  if (mod.selfsupGuarded) return true;
  mod._malloc = (bytes: number) => {
    const p = malloc(bytes);
    if (p === 0 && bytes > 0) {
      const gib = (n: number) => (n / 2 ** 30).toFixed(2);
      throw new EnvironmentError(
        `wasm memory exhausted: ${gib(bytes)} GiB more were asked for with ${gib(mod.HEAPU8?.length ?? 0)} GiB in use (WebAssembly memory ends at 4 GiB). ` +
          'Lower train.batchSize (or the views per image, or the model size), or use a backend without this limit (tensorflow, webgpu).',
      );
    }
    return p;
  };
  mod.selfsupGuarded = true;
  return true;
}
