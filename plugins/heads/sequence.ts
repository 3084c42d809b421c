import { Type } from '@sinclair/typebox';
import { ParamStore, definePlugin, pluginRef, tf, type Head, type Outputs } from '../../core/index.js';

/**
 * Heads in sequence, each output named: stage i reads stage i-1's output (the first reads what the
 * slot feeds it, `h` for a task's head), and the head returns every stage's output by its name.
 * SwAV's head is a projector and its prototypes:
 *
 *   h --mlp--> z --prototypes--> scores          (the swav loss reads online scores)
 *
 * In a task's `head` slot one stage must be named `z` (what negative sources, evaluators and the
 * collapse monitor read); in a `predictor` slot, `p`. A stage's parameters are `<name>/<param>`
 * (`tasks/main/head/scores/prototypes.weight`), and each stage's `afterStep` runs after the step.
 *
 * @example { "type": "sequence", "stages": [{ "name": "z", "head": { "type": "mlp" } }, { "name": "scores", "head": { "type": "prototypes" } }] }
 */
export default definePlugin({
  kind: 'head',
  name: 'sequence',
  description: 'heads applied in sequence, every output named (SwAV: projector, then prototypes)',
  reference: 'SwAV (Caron et al. 2020): a 2-layer MLP projector followed by the prototypes',
  options: Type.Object({
    stages: Type.Array(
      Type.Object(
        { name: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]*$', description: 'the output name of this stage' }), head: pluginRef('head') },
        { additionalProperties: false },
      ),
      { minItems: 1, description: 'the heads in order, each with the name of its output' },
    ),
  }),
  async create(o, ctx) {
    const names = o.stages.map((s) => s.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new Error(`two stages are named '${dup}': give each stage its own output name`);
    const params = new ParamStore('sequence-head');
    const stages: Array<{ name: string; head: Head }> = [];
    let input = ctx.input ?? 'h';
    let inputDim = ctx.inputDim;
    for (const [i, s] of o.stages.entries()) {
      const head = await ctx.registry.create('head', s.head, { ...ctx, path: `${ctx.path}/stages/${i}/head`, input, inputDim });
      params.include(s.name, head.params);
      stages.push({ name: s.name, head });
      input = s.name;
      inputDim = head.dim;
    }
    const main = stages.find((s) => s.name === 'z' || s.name === 'p') ?? stages[stages.length - 1];
    return {
      params,
      dim: main.head.dim,
      forward(x, training) {
        let out: Outputs = { ...x };
        const produced: Outputs = {};
        for (const s of stages) {
          const r = s.head.forward(out, training);
          const t = r instanceof tf.Tensor ? r : r[s.name];
          if (!t) throw new Error(`stage '${s.name}' returned ${Object.keys(r).join(', ')}, without '${s.name}'`);
          out = { ...out, [s.name]: t };
          produced[s.name] = t;
        }
        return produced;
      },
      afterStep(progress) {
        for (const s of stages) s.head.afterStep?.(progress);
      },
    };
  },
});
