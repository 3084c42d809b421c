/**
 * selfsup core: the public API that built-in and third-party plugins alike use.
 * Contracts (the plugin kinds), definePlugin, the nn building blocks, the config machinery, the
 * training loop and evaluation. core never imports plugins/.
 */
export { tf } from './engine/tf.js';
/** TypeBox, re-exported so plugin authors need only selfsup to write option schemas. */
export { Type, type Static } from '@sinclair/typebox';
export type { Tensor, Tensor1D, Tensor2D, Tensor4D, Variable, Scalar } from './engine/tf.js';
export * from './errors.js';
export { Rng } from './rng.js';

export type * from './contracts/augmenter.js';
export type * from './contracts/data.js';
export type * from './contracts/evaluator.js';
export type * from './contracts/modules.js';
export type * from './contracts/objective.js';
export type * from './contracts/optimizer.js';
export type * from './contracts/runtime.js';
export type * from './contracts/schedule.js';
export type * from './contracts/state.js';

export { definePlugin, PLUGIN_KINDS } from './plugin/definition.js';
export type { PluginContext, PluginDefinition, PluginInstances, PluginKind, PluginRef } from './plugin/definition.js';
export { PluginRegistry, pluginService } from './plugin/registry.js';
export { loadExternalPlugins } from './plugin/load-external.js';

export * from './nn/index.js';
export * from './augment/index.js';

export { pluginRef, ExperimentSchema, TaskSchema } from './config/experiment.js';
export type { ExperimentConfig, ResolvedConfig, TaskConfig, TrainConfig, EvalConfig } from './config/experiment.js';
export { composeSchema } from './config/schema.js';
export { validateConfig, schemaOf, EXISTS_KEYWORD } from './config/validate.js';
export { loadConfig, mergeConfig, applyOverrides, setPath, listPresets, locateConfig } from './config/load.js';
export type { PresetSource } from './config/load.js';
export { closest } from './config/did-you-mean.js';

export { selectBackend } from './engine/backend.js';
export type { BackendChoice } from './engine/backend.js';
export { registerConv2DBackpropFilter, conv2dBackpropFilterViaConv } from './engine/kernels/conv2d-backprop-filter.js';

export { gatherImages, makeBatch, normalizeImages, limitSet, channelStats } from './data/batch.js';
export { readIdx, readIdxFile } from './data/idx.js';
export { forwardViews } from './train/branch.js';
export { buildRun, loadDataset, stateTensors, evalViewOf } from './train/build.js';
export type { RunParts, TaskRuntime, KeyedParam } from './train/build.js';
export { trainStep } from './train/step.js';
export type { StepResult } from './train/step.js';
export { train } from './train/trainer.js';
export type { TrainOptions, TrainResult } from './train/trainer.js';
export { saveCheckpoint, readCheckpoint, restoreTensors, writeAtomic, CHECKPOINT_FILE } from './train/checkpoint.js';
export type { CheckpointMeta } from './train/checkpoint.js';
export { extractFeatures } from './eval/features.js';
export { runEvaluators } from './eval/evaluate.js';
export { packageRoot } from './package-root.js';
export { registerConv2DBackpropInput, conv2dBackpropInputViaPhases } from './engine/kernels/conv2d-backprop-input.js';
export { randomWeightsBaseline } from './eval/baseline.js';
export { rgbToLab, labToRgb } from './color/lab.js';
export * from './sweep/index.js';
export { patchForWasmThreads, unrefWasmThreads } from './engine/wasm-threads.js';
export { guardWasmMalloc } from './engine/wasm-memory.js';
export { batchMatMulUntransposed, registerUntransposedBatchMatMul } from './engine/kernels/batch-mat-mul.js';
export { conv2dBackpropFilterSplit, conv2dBackpropFilterSplitWhenLong, registerWebGpuKernels } from './engine/kernels/conv2d-backprop-filter-split.js';
export { registerSharedIdentity, sharedIdentity } from './engine/kernels/identity.js';
export { registerSimdKernels, SimdKernelModule, KERNELS_SOURCE_SHA256 } from './engine/simd/index.js';
export { markdownTable, median, pct } from './util/text.js';
