import { Type, type Static } from '@sinclair/typebox';

/** A value an axis takes: any JSON value (a number, a string, a whole plugin reference...). */
const AxisValues = Type.Array(Type.Unknown(), { minItems: 1, description: 'the values this config path takes, one trial each' });

/** A dotted config path (`head.type`, `train.batchSize`, `tasks.main.loss.temperature`). */
const ConfigPath = Type.String({ pattern: '^[A-Za-z0-9_$-]+(\\.[A-Za-z0-9_$-]+)*$' });

const Distribution = Type.Union([
  Type.Object({ choice: Type.Array(Type.Unknown(), { minItems: 1 }) }, { additionalProperties: false, description: 'one of these values, uniformly' }),
  Type.Object({ uniform: Type.Tuple([Type.Number(), Type.Number()]) }, { additionalProperties: false, description: 'a real number uniform in [lo, hi)' }),
  Type.Object(
    { logUniform: Type.Tuple([Type.Number({ exclusiveMinimum: 0 }), Type.Number({ exclusiveMinimum: 0 })]) },
    { additionalProperties: false, description: 'a positive number whose log is uniform in [log lo, log hi)' },
  ),
  Type.Object(
    { int: Type.Tuple([Type.Integer(), Type.Integer()]) },
    { additionalProperties: false, description: 'an integer uniform in [lo, hi] (both included)' },
  ),
]);

/**
 * An ablation sweep: a base config and the axes that vary. The trials are the cartesian product of
 * the `grid` axes, each `zip` group (its axes vary together), each named `variants` axis (bundles of
 * settings under a name: a methods comparison), the `random` samples and the `seeds`.
 *
 * @example
 * { "extends": "simclr", "set": { "train.maxSeconds": 120 },
 *   "grid": { "head.type": ["identity", "linear", "mlp"] }, "seeds": [0, 1, 2],
 *   "metrics": ["linear_top1", "linear_z_top1"] }
 * @example
 * { "extends": "simclr", "variants": { "method": { "simclr": {}, "barlow": { "extends": "barlow-twins", "optimizer.lr": 0.1 } } } }
 */
export const SweepSpecSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    name: Type.Optional(Type.String({ description: 'sweep name (default: the file name)' })),
    description: Type.Optional(Type.String()),
    notes: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'free text; ignored' })),
    extends: Type.String({ description: 'the base: a preset name or a config file (relative to the sweep file)' }),
    set: Type.Record(Type.String(), Type.Unknown(), { default: {}, description: 'config path -> value, applied to every trial before the axes' }),
    grid: Type.Record(Type.String(), AxisValues, {
      default: {},
      description: 'config path -> values: every combination is a trial; the path `extends` takes presets or config files (a methods comparison)',
    }),
    zip: Type.Array(Type.Record(Type.String(), AxisValues, { minProperties: 1 }), {
      default: [],
      description: 'groups of axes that vary together: within a group every list has the same length, value i of each goes into trial i',
    }),
    variants: Type.Record(
      Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]*$' }),
      Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown()), { minProperties: 1 }),
      {
        default: {},
        description:
          'named axes of named bundles: axis -> variant name -> { config path: value, ... } (a bundle may set `extends`); every variant is a trial, labelled by its name (`method=barlow`)',
      },
    ),
    random: Type.Optional(
      Type.Object(
        {
          n: Type.Integer({ minimum: 1, description: 'how many points to sample' }),
          seed: Type.Integer({ default: 0, minimum: 0, description: 'seeds the sampling (the same spec always samples the same points)' }),
          axes: Type.Record(Type.String(), Distribution, { minProperties: 1 }),
        },
        { additionalProperties: false },
      ),
    ),
    seeds: Type.Array(Type.Integer({ minimum: 0 }), {
      default: [0],
      minItems: 1,
      uniqueItems: true,
      description: "each combination runs once per seed (the config's `seed`)",
    }),
    metrics: Type.Array(Type.String(), { default: ['knn_top1', 'linear_top1'], minItems: 1, description: 'final metrics the report tabulates and plots' }),
  },
  { additionalProperties: false },
);

export type SweepSpec = Static<typeof SweepSpecSchema>;
export type Distribution = Static<typeof Distribution>;
export { ConfigPath };
