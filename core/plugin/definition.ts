import type { Static, TObject } from '@sinclair/typebox';
import type { Augmenter } from '../contracts/augmenter.js';
import type { Dataset, DatasetInfo } from '../contracts/data.js';
import type { Evaluator } from '../contracts/evaluator.js';
import type { Encoder, Head } from '../contracts/modules.js';
import type { Loss, NegativeSource, TargetBranch } from '../contracts/objective.js';
import type { Optimizer } from '../contracts/optimizer.js';
import type { Backend, Callback } from '../contracts/runtime.js';
import type { Schedule } from '../contracts/schedule.js';
import type { Rng } from '../rng.js';
import type { PluginRegistry } from './registry.js';

/** What each plugin kind's factory returns. */
export interface PluginInstances {
  augmenter: Augmenter;
  encoder: Encoder;
  head: Head;
  loss: Loss;
  negatives: NegativeSource;
  target: TargetBranch;
  dataset: Dataset;
  optimizer: Optimizer;
  schedule: Schedule;
  evaluator: Evaluator;
  backend: Backend;
  callback: Callback;
}

export type PluginKind = keyof PluginInstances;

export const PLUGIN_KINDS: readonly PluginKind[] = [
  'augmenter',
  'encoder',
  'head',
  'loss',
  'negatives',
  'target',
  'dataset',
  'optimizer',
  'schedule',
  'evaluator',
  'backend',
  'callback',
];

/** Everything a factory may need besides its options. */
export interface PluginContext {
  /** the run's seed */
  seed: number;
  /** a seeded stream for this plugin instance (initialisation, sampling) */
  rng: Rng;
  /** JSON path of this plugin's config (`/tasks/main/head`), for messages */
  path: string;
  /** the dataset being trained on, once loaded (encoders read `channels`, decoders the size) */
  dataset?: DatasetInfo;
  /** for heads: the encoder they sit on */
  encoder?: { dim: number; mapShape: number[] };
  /** for heads: the output they read by default (`h` for a task's head, `z` for its predictor) */
  input?: string;
  /** for heads: the size of that output; for negative sources and losses: the size of the head's output */
  inputDim?: number;
  /** number of training images (memory banks size themselves by it; queues check against it) */
  trainCount?: number;
  /** run output directory, if any */
  outDir?: string;
  /** builds nested plugins (multi-view builds its pipeline) */
  registry: PluginRegistry;
  log(message: string): void;
}

/**
 * A plugin is one definition: kind, name, JSON Schema of its options (TypeBox: the schema is also
 * the TypeScript type of `options`), and a factory. Options arrive validated, with defaults filled.
 *
 * @example
 * export default definePlugin({
 *   kind: 'loss', name: 'my-loss', description: 'mean squared norm of z',
 *   options: Type.Object({ scale: Type.Number({ default: 1, exclusiveMinimum: 0 }) }),
 *   create: (o) => ({ compute: ({ outputs }) => tf.mul(tf.mean(tf.square(outputs[0])), o.scale) }),
 * });
 */
export interface PluginDefinition<K extends PluginKind = PluginKind, S extends TObject = TObject> {
  kind: K;
  /** kebab-case, unique within its kind; the config's `type` */
  name: string;
  /** one sentence: what it does (shown by `selfsup plugins`) */
  description: string;
  /** the paper the defaults come from, if any */
  reference?: string;
  /** options schema (without `type`), `additionalProperties: false` is applied by the framework */
  options: S;
  /**
   * Numeric options a config's `schedules` may drive (`"target.momentum": { "to": 1, ... }`). The
   * framework writes the scheduled value into the options object before every step, so the plugin
   * must read such an option from `options` when it uses it, not copy it at `create`.
   */
  schedulable?: Array<keyof Static<S> & string>;
  /** encoders: `forward` honours `EncoderInputs.keep` (encodes only the kept tokens) */
  dropsTokens?: boolean;
  /** augmenters: `apply` returns `keep` (token indices per view), which needs an encoder that `dropsTokens` */
  emitsKeep?: boolean;
  /** augmenters: how many views come first as the large ("global") crops (multi-crop: its first kind's count) */
  globalViews?: (options: Static<S>) => number;
  /**
   * losses: how many leading views this loss treats as global crops (DINO's teacher views, SwAV's
   * assigned crops); validation refuses more than the augmenter's `globalViews`, which would feed
   * local crops where global ones belong
   */
  readsGlobalViews?: (options: Static<S>) => number;
  /** evaluators: the metric names `evaluate` returns for these options (a sweep checks the metrics it reports against them) */
  metrics?: (options: Static<S>) => string[];
  create(options: Static<S>, ctx: PluginContext): PluginInstances[K] | Promise<PluginInstances[K]>;
}

/** Identity helper that types `create`'s options from the schema. */
export function definePlugin<K extends PluginKind, S extends TObject>(def: PluginDefinition<K, S>): PluginDefinition<K, S> {
  return def;
}

/** A plugin reference in a config: `{ "type": "info-nce", "temperature": 0.5 }`. */
export interface PluginRef {
  type: string;
  [option: string]: unknown;
}
