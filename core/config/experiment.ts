import { Type, type Static } from '@sinclair/typebox';
import type { PluginKind, PluginRef } from '../plugin/definition.js';

/**
 * A reference to a plugin of `kind` inside an options schema: `{ "type": <name>, ...options }`,
 * validated against that plugin's own schema. Plugin authors use it for nested plugins (multi-view's
 * `pipeline` is `Type.Array(pluginRef('augmenter'))`).
 */
export const pluginRef = (kind: PluginKind, extra: Record<string, unknown> = {}) => Type.Unsafe<PluginRef>({ $ref: `#/$defs/${kind}`, ...extra });

/** Same, with a default value filled in when the key is absent. */
const refWithDefault = (kind: PluginKind, def: PluginRef, description: string) =>
  Type.Unsafe<PluginRef>({ allOf: [{ $ref: `#/$defs/${kind}` }], default: def, description });

/** One pretext task. Several tasks share the encoder; the step sums `weight * loss` over them. */
export const TaskSchema = Type.Object(
  {
    augmenter: pluginRef('augmenter', { description: 'batch -> views (+ targets)' }),
    head: pluginRef('head', { description: 'h (or the spatial map) -> z / logits / pixels; default identity' }),
    predictor: Type.Optional(
      pluginRef('head', { description: 'online branch only: z -> p (BYOL, SimSiam, MoCo v3); a momentum target never copies it. Default: none' }),
    ),
    target: pluginRef('target', { description: 'key branch: shared | momentum | none; default none' }),
    negatives: pluginRef('negatives', { description: 'where negatives come from: in-batch | none | ...; default none' }),
    loss: pluginRef('loss'),
    weight: Type.Number({ default: 1, minimum: 0, description: 'weight of this task in the summed loss' }),
  },
  { additionalProperties: false },
);

/** The keys of a task, which the single-task form writes at the top level of a config. */
export const TASK_KEYS = ['augmenter', 'head', 'predictor', 'target', 'negatives', 'loss', 'weight'] as const;

/**
 * A parameter group: the trainable parameters whose key matches (`encoder/conv1.weight`,
 * `tasks/main/head/fc1.bias`, `tasks/main/predictor/fc1.weight`; in globs `*` is one segment or
 * part of it, `**` any number of segments), and what applies to them. The first group that matches
 * a parameter wins; parameters no group matches keep the optimizer's settings.
 */
export const ParamGroupSchema = Type.Object(
  {
    match: Type.Optional(
      Type.Union([Type.String(), Type.Array(Type.String())], {
        description: 'glob(s) over parameter keys, e.g. "tasks/*/predictor/**" or "**/*.bias"; absent: every parameter (with `decay`)',
      }),
    ),
    decay: Type.Optional(
      Type.Boolean({ description: 'select only parameters that take weight decay (true) or only biases and batch-norm parameters (false)' }),
    ),
    lrScale: Type.Number({ default: 1, minimum: 0, description: 'multiplies the learning rate of these parameters' }),
    scheduled: Type.Boolean({ default: true, description: "false: the learning rate schedule does not apply (SimSiam fixes the predictor's learning rate)" }),
    weightDecay: Type.Optional(
      Type.Number({ minimum: 0, description: "weight decay of these parameters (default: the optimizer's for parameters that take decay, 0 for the others)" }),
    ),
    lars: Type.Optional(Type.Boolean({ description: 'LARS adaptation applies (default: for parameters that take decay)' })),
    frozenUntil: Type.Integer({ default: 0, minimum: 0, description: 'no update before this step (SwAV freezes its prototypes for the first epoch)' }),
    frozenEpochs: Type.Number({
      default: 0,
      minimum: 0,
      description: 'no update during the first N epochs (fractions allowed); the later of this and frozenUntil applies',
    }),
  },
  { additionalProperties: false },
);

/**
 * A scheduled value: the option at `path` goes from its configured value (where the schedule's
 * multiplier is 1) to `to` (where it is 0): value = to + (configured - to) * multiplier. The plugin
 * must declare the option schedulable.
 */
export const ScheduledValueSchema = Type.Object(
  {
    to: Type.Number({ description: 'the value where the multiplier is 0 (the end of a cosine schedule)' }),
    schedule: pluginRef('schedule', { description: 'the multiplier over training, e.g. { "type": "cosine" }' }),
  },
  { additionalProperties: false },
);

export const TrainSchema = Type.Object(
  {
    epochs: Type.Integer({ default: 10, minimum: 1, description: 'passes over the training set' }),
    batchSize: Type.Integer({ default: 256, minimum: 2, description: 'images per step (each gives one or more views)' }),
    maxSeconds: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: 'stop after this much training time; the schedule is fitted to it (from the measured step rate), `epochs` stays the upper bound',
      }),
    ),
    maxSteps: Type.Optional(Type.Integer({ minimum: 1, description: 'stop once the run has made this many steps in all (the schedule still spans `epochs`)' })),
    checkpointEvery: Type.Integer({ default: 1, minimum: 0, description: 'write a checkpoint every N epochs (0: only at the end); needs an output directory' }),
    concatViews: Type.Boolean({
      default: true,
      description: 'encode all views of one size as one batch (batch-norm statistics over all of them, as SimCLR does)',
    }),
    clipGradNorm: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'scale the gradients down when their global L2 norm exceeds this (DINO: 3)' })),
    prefetch: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'batches read ahead while a step trains, for a dataset read on demand (image-folder cache "none"); default 4. Memory: prefetch+1 batches of pixels',
      }),
    ),
  },
  { additionalProperties: false },
);

export const EvalSchema = Type.Object(
  {
    every: Type.Integer({ default: 1, minimum: 0, description: 'run the monitor evaluators every N epochs (0: never)' }),
    monitor: Type.Array(pluginRef('evaluator'), { default: [{ type: 'knn' }], description: 'cheap evaluators run during training' }),
    final: Type.Array(pluginRef('evaluator'), { default: [{ type: 'knn' }, { type: 'linear-probe' }], description: 'evaluators run at the end' }),
    batchSize: Type.Integer({ default: 500, minimum: 1, description: 'images per forward pass when extracting features' }),
    trainLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'use only the first N training images as the labelled set' })),
    baseline: Type.Boolean({ default: false, description: 'also score the encoder with its initial (random) weights: metrics random_<name>' }),
  },
  { additionalProperties: false },
);

const ExperimentProperties = {
  $schema: Type.Optional(Type.String()),
  name: Type.Optional(Type.String({ description: 'run name (default: the preset or file name)' })),
  description: Type.Optional(Type.String()),
  notes: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'free text, e.g. where each default comes from; ignored by training' })),
  extends: Type.Optional(Type.String({ description: 'a preset name or a config path to inherit from; later keys win, arrays replace' })),
  plugins: Type.Array(Type.String(), { default: [], description: 'ES modules that export plugins (paths relative to the config file)' }),
  seed: Type.Integer({ default: 0, minimum: 0, description: 'seeds shuffling, augmentation and initialisation' }),
  backend: Type.String({ default: 'auto', description: 'TensorFlow.js backend: auto picks the fastest that loads' }),
  data: pluginRef('dataset'),
  encoder: pluginRef('encoder'),
  augmenter: Type.Optional(TaskSchema.properties.augmenter),
  head: Type.Optional(TaskSchema.properties.head),
  predictor: Type.Optional(TaskSchema.properties.predictor),
  target: Type.Optional(TaskSchema.properties.target),
  negatives: Type.Optional(TaskSchema.properties.negatives),
  loss: Type.Optional(TaskSchema.properties.loss),
  weight: Type.Optional(Type.Number({ minimum: 0 })),
  tasks: Type.Optional(
    Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]+$' }), Type.Partial(TaskSchema), {
      description: 'several pretext tasks sharing the encoder (instead of the top-level augmenter/head/target/negatives/loss)',
    }),
  ),
  optimizer: pluginRef('optimizer'),
  schedule: refWithDefault('schedule', { type: 'constant' }, 'learning-rate schedule'),
  schedules: Type.Record(Type.String(), ScheduledValueSchema, {
    default: {},
    description: 'schedules for other numeric options, by config path: { "target.momentum": { "to": 1, "schedule": { "type": "cosine" } } }',
  }),
  paramGroups: Type.Array(ParamGroupSchema, {
    default: [],
    description: 'per-parameter learning rate, weight decay, LARS exclusion and freezing, by parameter key',
  }),
  train: Type.Object(TrainSchema.properties, { additionalProperties: false, default: {} }),
  eval: Type.Object(EvalSchema.properties, { additionalProperties: false, default: {} }),
  callbacks: Type.Array(pluginRef('callback'), { default: [], description: 'extra callbacks (the CLI adds its progress bar)' }),
};

export const ExperimentSchema = Type.Object(ExperimentProperties, { additionalProperties: false });

/** The config as written (and validated, defaults filled). */
export type ExperimentConfig = Static<typeof ExperimentSchema>;
export type TaskConfig = Static<typeof TaskSchema>;
export type TrainConfig = Static<typeof TrainSchema>;
export type EvalConfig = Static<typeof EvalSchema>;

/** A validated config with its tasks normalised: the single-task form becomes `tasks.main`. */
export interface ResolvedConfig extends Omit<ExperimentConfig, (typeof TASK_KEYS)[number] | 'tasks' | 'extends'> {
  name: string;
  tasks: Record<string, TaskConfig>;
}

export type ParamGroup = Static<typeof ParamGroupSchema>;
export type ScheduledValue = Static<typeof ScheduledValueSchema>;

/** JSON path of a task's plugins: '' for the single-task form (`/head`), `/tasks/<name>` otherwise. */
export function taskPath(config: Pick<ResolvedConfig, 'tasks'>, name: string): string {
  const single = Object.keys(config.tasks).length === 1 && config.tasks.main !== undefined;
  return single ? '' : `/tasks/${name}`;
}
