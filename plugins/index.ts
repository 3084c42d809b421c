/**
 * The built-in plugins, one file each. `registerBuiltins(registry)` binds them all; the CLI and
 * the programmatic API do that before loading any external plugin.
 */
import type { PluginDefinition, PluginRegistry } from '../core/index.js';
import { portablePlugins, registerPlugins } from './portable.js';
import cpuBackend from './backends/cpu.js';
import nativeBackend from './backends/native.js';
import tensorflowBackend from './backends/tensorflow.js';
import wasmBackend from './backends/wasm.js';
import webgpuBackend from './backends/webgpu.js';
import attentionMaps from './callbacks/attention-maps.js';
import imageGrid from './callbacks/image-grid.js';
import progress from './callbacks/progress.js';
import cifar10 from './datasets/cifar10.js';
import fashionMnist from './datasets/fashion-mnist.js';
import imageFolder from './datasets/image-folder.js';
import photoPatches from './datasets/photo-patches.js';
import stl10 from './datasets/stl10.js';

/** Every built-in plugin: the portable ones (`plugins/portable.ts`) and those that need Node. */
export const builtinPlugins: PluginDefinition<any, any>[] = [
  ...portablePlugins.filter((p) => p !== cpuBackend),
  fashionMnist,
  cifar10,
  stl10,
  imageFolder,
  photoPatches,
  tensorflowBackend,
  webgpuBackend,
  nativeBackend,
  wasmBackend,
  // the backends in order of preference, as the schema lists them: the portable cpu last
  cpuBackend,
  progress,
  imageGrid,
  attentionMaps,
];

export const registerBuiltins = (registry: PluginRegistry): PluginRegistry => registerPlugins(registry, builtinPlugins);

export { knnTop1 } from './evaluators/knn.js';
export { linearProbeTop1 } from './evaluators/linear-probe.js';
export { gamutBins } from './losses/colorization.js';
