import { defineConfig } from 'tsup';
import { browserBoundary } from './browser/twins.js';

// Library: ESM + CJS + .d.ts. CLI and bench: ESM executables. Dependencies stay external, so a user's
// @tensorflow/tfjs-core is the one instance every backend registers into. onnxruntime-node (a dev
// dependency, optional for users: `selfsup export` checks its ONNX files with it when installed) too, and
// playwright-core (a dev dependency: bench/browser-step drives Chromium with it).
const external = ['onnxruntime-node', 'playwright-core'];
export default defineConfig([
  {
    entry: { index: 'cli/api.ts', sweep: 'cli/sweep-api.ts', engine: 'core/engine/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    shims: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    external,
  },
  {
    entry: {
      'cli/main': 'cli/main.ts',
      'cli/sweep-worker': 'cli/sweep/worker.ts',
      'bench/simclr-fmnist': 'bench/simclr-fmnist.ts',
      'bench/simclr-cifar': 'bench/simclr-cifar.ts',
      'bench/negatives': 'bench/negatives.ts',
      'bench/presets': 'bench/presets.ts',
      'bench/kill-matrix': 'bench/kill-matrix.ts',
      'bench/bad-inputs': 'bench/bad-inputs.ts',
      'bench/vit-methods': 'bench/vit-methods.ts',
      'bench/wasm-heap': 'bench/wasm-heap.ts',
      'bench/memory-soak': 'bench/memory-soak.ts',
      'bench/export': 'bench/export.ts',
      'bench/stream-folder': 'bench/stream-folder.ts',
      'bench/queue-sweep': 'bench/queue-sweep.ts',
      'bench/browser-step': 'bench/browser-step.ts',
    },
    format: ['esm'],
    shims: true,
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    external,
  },
  // The playground: the page (ESM) and its training worker (a classic worker script: emscripten's
  // threaded tfjs-backend-wasm starts its threads only where `importScripts` exists), for the
  // browser, every dependency bundled. The boundary (browser/twins.ts) swaps Node-only modules for
  // their twins and stops the build when a Node built-in reaches it.
  ...(['page', 'worker'] as const).map((name) => ({
    entry: { [`browser/${name}`]: `browser/${name}.ts` },
    format: [name === 'page' ? ('esm' as const) : ('iife' as const)],
    outExtension: () => ({ js: '.js' }),
    platform: 'browser' as const,
    splitting: false,
    target: 'chrome110',
    sourcemap: true,
    minify: true,
    noExternal: [/.*/],
    esbuildPlugins: [browserBoundary(process.cwd())],
    esbuildOptions(o: { define?: Record<string, string> }) {
      o.define = { ...o.define, 'process.env': '{}' };
    },
  })),
]);
