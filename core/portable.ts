/**
 * The portable half of selfsup's core: everything that runs in a browser as in Node (contracts,
 * definePlugin, nn, augmentations, config validation, the step, evaluation). It imports nothing
 * from Node. `core/index.ts` is this plus the Node-only parts (files, checkpoints, the trainer,
 * downloads); the browser build resolves plugins' `core/index.js` to this module, so a plugin that
 * uses a Node-only export fails that build instead of failing in a tab.
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

export * from './nn/index.js';
export * from './augment/index.js';

export { pluginRef, ExperimentSchema, TaskSchema } from './config/experiment.js';
export { TASK_KEYS, taskPath } from './config/experiment.js';
export type { ExperimentConfig, ResolvedConfig, TaskConfig, TrainConfig, EvalConfig, ParamGroup, ScheduledValue } from './config/experiment.js';
export { composeSchema } from './config/schema.js';
export { validateConfig, schemaOf, EXISTS_KEYWORD } from './config/validate.js';
export { closest } from './config/did-you-mean.js';

export { selectBackend } from './engine/backend.js';
// a fused optimizer update a backend may provide (the native one does); plugins/optimizers/adam.ts uses it
export { ADAM_STEP } from './engine/adam-kernel.js';
export type { AdamStepAttrs } from './engine/adam-kernel.js';
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
export { parseIdx } from './data/idx-parse.js';
export { BatchQueue, DEFAULT_PREFETCH, batchesOf } from './data/prefetch.js';
export { encodeViews, runBranch, addHeadOutputs, lazyOutputs } from './train/branch.js';
export { ParamGroups, globToRegExp } from './train/param-groups.js';
export { ScalarSchedules } from './train/scalar-schedules.js';
export { buildRun, loadDataset, stateTensors, evalViewOf, evalOptionsOf } from './train/build.js';
export type { RunParts, TaskRuntime, KeyedParam } from './train/build.js';
export { trainStep } from './train/step.js';
export { checkpointRecord, restoreTensors, CHECKPOINT_FILE } from './train/checkpoint-record.js';
export type { CheckpointMeta, CheckpointState } from './train/checkpoint-record.js';
export { packTar, unpackTar } from './data/tar-entries.js';
export type { StepResult } from './train/step.js';
export { extractFeatures, readFeatures } from './eval/features.js';
export { runEvaluators } from './eval/evaluate.js';
export { umap2d, unitRows } from './eval/umap.js';
export type { UmapOptions } from './eval/umap.js';
export { randomWeightsBaseline } from './eval/baseline.js';
export { rgbToLab, labToRgb } from './color/lab.js';
export { etaText, markdownTable, median, pct } from './util/text.js';
