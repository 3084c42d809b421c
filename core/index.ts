/**
 * selfsup core: the public API that built-in and third-party plugins alike use.
 * Contracts (the plugin kinds), definePlugin, the nn building blocks, the config machinery, the
 * training loop and evaluation. core never imports plugins/. Engine internals (kernels, wasm
 * threads) are `core/engine/index.ts` (`selfsup/engine`), sweeps `core/sweep/index.ts`
 * (`selfsup/sweep`): importing this module loads neither better-sqlite3 nor sharp.
 */
export { tf } from './engine/tf.js';
/** TypeBox, re-exported so plugin authors need only selfsup to write option schemas. */
export { Type, type Static } from '@sinclair/typebox';
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Variable, Scalar } from './engine/tf.js';
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
export { progressAt } from './contracts/schedule.js';
export { readOutputs } from './objective/read-outputs.js';
export type * from './contracts/state.js';

export { definePlugin, PLUGIN_KINDS } from './plugin/definition.js';
export type { PluginContext, PluginDefinition, PluginInstances, PluginKind, PluginRef } from './plugin/definition.js';
export { PluginRegistry, pluginService } from './plugin/registry.js';
export { loadExternalPlugins } from './plugin/load-external.js';

export * from './nn/index.js';
export * from './augment/index.js';

export { pluginRef, ExperimentSchema, TaskSchema } from './config/experiment.js';
export { TASK_KEYS, taskPath } from './config/experiment.js';
export type { ExperimentConfig, ResolvedConfig, TaskConfig, TrainConfig, EvalConfig, ParamGroup, ScheduledValue } from './config/experiment.js';
export { composeSchema } from './config/schema.js';
export { validateConfig, schemaOf, EXISTS_KEYWORD } from './config/validate.js';
export { loadConfig, mergeConfig, applyOverrides, setPath, listPresets, locateConfig } from './config/load.js';
export type { PresetSource } from './config/load.js';
export { closest } from './config/did-you-mean.js';

export { selectBackend } from './engine/backend.js';
export type { BackendChoice } from './engine/backend.js';

export {
  gatherImages,
  makeBatch,
  makeBatchFrom,
  normalizeImages,
  limitSet,
  channelStats,
  ChannelStats,
  pixelsToTensor,
  readImages,
  readPixels,
  streamingImageSet,
} from './data/batch.js';
export { BatchQueue, DEFAULT_PREFETCH, batchesOf } from './data/prefetch.js';
export { readIdx, readIdxFile } from './data/idx.js';
export { fetchArchive, downloadFile, sha256File, defaultCacheDir, DOWNLOAD_OPTIONS, EXTRACTED_MARKER } from './data/download.js';
export type { RemoteArchive, FetchOptions } from './data/download.js';
export { extractTar } from './data/tar.js';
export { encodeViews, runBranch, addHeadOutputs, lazyOutputs } from './train/branch.js';
export { ParamGroups, globToRegExp } from './train/param-groups.js';
export { ScalarSchedules } from './train/scalar-schedules.js';
export { buildRun, loadDataset, stateTensors, evalViewOf } from './train/build.js';
export type { RunParts, TaskRuntime, KeyedParam } from './train/build.js';
export { trainStep } from './train/step.js';
export type { StepResult } from './train/step.js';
export { train } from './train/trainer.js';
export type { TrainOptions, TrainResult } from './train/trainer.js';
export { saveCheckpoint, readCheckpoint, restoreTensors, writeAtomic, CHECKPOINT_FILE, PREVIOUS_CHECKPOINT_FILE } from './train/checkpoint.js';
export type { CheckpointMeta } from './train/checkpoint.js';
export { extractFeatures, readFeatures } from './eval/features.js';
export { runEvaluators } from './eval/evaluate.js';
export { packageRoot } from './package-root.js';
export { randomWeightsBaseline } from './eval/baseline.js';
export { rgbToLab, labToRgb } from './color/lab.js';
export { etaText, markdownTable, median, pct } from './util/text.js';
