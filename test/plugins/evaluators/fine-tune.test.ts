import { beforeAll, describe, expect, it } from 'vitest';
import { buildRun, resolveExperiment, runEvaluators, tf, train, type Encoder, type RunParts } from '../../../cli/api.js';
import { blockDepth, layerDecayScales } from '../../../plugins/evaluators/fine-tune.js';
import { cosineFactor } from '../../../plugins/schedules/cosine.js';
import { tinySimclr, useBackend } from '../../helpers.js';

/** A tiny encoder (by default a 2-stage CNN) on an easy synthetic labelled set (4 textures, 256 train, 64 test), evaluated by fine-tune with options `fineTune`. */
async function build(
  fineTune: Record<string, unknown> = {},
  evalExtra: Record<string, unknown> = {},
  encoder: Record<string, unknown> = { type: 'small-cnn', widths: [8, 16] },
): Promise<RunParts> {
  const { config, registry } = await resolveExperiment(
    tinySimclr({
      data: { type: 'synthetic', train: 256, test: 64, size: 12, classes: 4 },
      encoder,
      eval: { every: 0, monitor: [], final: [{ type: 'fine-tune', epochs: 3, batchSize: 32, lr: 1e-2, ...fineTune }], ...evalExtra },
    }),
  );
  return buildRun(config, { registry });
}

/** Every parameter and buffer of a store, as bytes. */
const bytesOf = (e: Encoder) => new Map(e.params.list().map((p) => [p.name, Buffer.from((p.variable.dataSync() as Float32Array).slice().buffer)]));

/** The run's `newEncoder`, recording what the copy sees: batch sizes by mode, and how far each parameter moved while training (max |change|). */
function spy(parts: RunParts) {
  const seen = { train: [] as number[], test: [] as number[], moved: new Map<string, number>() };
  const newEncoder = async (): Promise<Encoder> => {
    const e = await parts.newEncoder();
    let start: Map<string, Float32Array> | undefined;
    return {
      params: e.params,
      dim: e.dim,
      forward(x, training) {
        start ??= new Map(e.params.list().map((p) => [p.name, (p.variable.dataSync() as Float32Array).slice()]));
        if (training) seen.train.push(x.shape[0]);
        else {
          if (seen.test.length === 0)
            for (const p of e.params.list())
              seen.moved.set(p.name, Math.max(...(p.variable.dataSync() as Float32Array).map((v, i) => Math.abs(v - start!.get(p.name)![i]))));
          seen.test.push(x.shape[0]);
        }
        return e.forward(x, training);
      },
    };
  };
  return { seen, newEncoder };
}

describe('fine-tune evaluator', () => {
  beforeAll(() => useBackend('cpu'));

  it('layer-wise decay: block i is depth i+1, what comes before the blocks 0, after them and the head L+1', () => {
    expect(['patch.weight', 'blocks.0.x', 'blocks.3.x', 'blocks.11.attn.qkv.weight', 'cls', 'trunk/blocks.2.y'].map(blockDepth)).toEqual([
      undefined,
      1,
      4,
      12,
      undefined,
      3,
    ]);
    expect(blockDepth('stage1.blocks.0.conv')).toBeUndefined(); // only a prefix (or a '/' segment) counts
    const names = ['patch.weight', 'cls', 'blocks.0.x', 'blocks.3.x', 'norm.weight'];
    const { layers, depth, encoder, head } = layerDecayScales(names, 0.5);
    expect(layers).toBe(4);
    expect(Object.fromEntries(depth)).toEqual({ 'patch.weight': 0, cls: 0, 'blocks.0.x': 1, 'blocks.3.x': 4, 'norm.weight': 5 });
    expect(Object.fromEntries(encoder)).toEqual({ 'patch.weight': 0.5 ** 5, cls: 0.5 ** 5, 'blocks.0.x': 0.5 ** 4, 'blocks.3.x': 0.5, 'norm.weight': 1 });
    expect(head).toBe(1);
    // a CNN: one layer 0, all of it at decay^1
    expect(Object.fromEntries(layerDecayScales(['conv1.weight', 'bn1.gamma'], 0.75).encoder)).toEqual({ 'conv1.weight': 0.75, 'bn1.gamma': 0.75 });
    // off
    expect([...layerDecayScales(names, 1).encoder.values()]).toEqual([1, 1, 1, 1, 1]);
  });

  it("learning rate (the cosine schedule's): a linear warm-up that never gives 0, then a half cosine from 1 to 0 over the remaining steps", () => {
    const f = (total: number, warmup: number) =>
      Array.from({ length: total }, (_, step) => cosineFactor({ step, totalSteps: total, stepsPerEpoch: 1 }, { warmupEpochs: warmup, final: 0 }));
    // 4 warm-up steps of 10: 1/4, 2/4, 3/4, 1, then the cosine over the other 6 starts at 1 again
    const w = f(10, 4);
    expect(w.slice(0, 4)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(w[4]).toBe(1);
    for (let s = 5; s < 10; s++) expect(w[s]).toBeCloseTo(0.5 * (1 + Math.cos((Math.PI * (s - 4)) / 6)), 12);
    expect(w[7]).toBeCloseTo(0.5, 12); // the middle of the cosine
    // no warm-up: the plain cosine of before
    expect(f(4, 0)).toEqual([1, 0.5 * (1 + Math.cos(Math.PI / 4)), 0.5, 0.5 * (1 + Math.cos((3 * Math.PI) / 4))]);
    // a warm-up longer than the run: all of it warms up, reaching 1 at the last step
    expect(f(3, 5)).toEqual([1 / 3, 2 / 3, 1]);
  });

  it("warmupEpochs reaches the optimizer: the encoder's first update is lr x Adam's step x the schedule's factor", async () => {
    /** conv1.weight's largest change from its start, seen at each training forward (so [0, after step 1, ...]) */
    const firstSteps = async (fineTune: Record<string, unknown>) => {
      const parts = await build({ epochs: 2, batchSize: 16, weightDecay: 0, ...fineTune }, { trainLimit: 64 });
      const moved: number[] = [];
      const newEncoder = async (): Promise<Encoder> => {
        const e = await parts.newEncoder();
        // read at the first forward: the copy receives the run's weights after it is made
        const weight = () =>
          e.params
            .list()
            .find((p) => p.name === 'conv1.weight')!
            .variable.dataSync() as Float32Array;
        let start: Float32Array | undefined;
        return {
          params: e.params,
          dim: e.dim,
          forward(x, training) {
            start ??= weight().slice();
            if (training) moved.push(Math.max(...weight().map((v, i) => Math.abs(v - start![i]))));
            return e.forward(x, training);
          },
        };
      };
      await runEvaluators(parts.final, parts.tasks[0].branch, parts.data, { batchSize: 64, seed: 0, newEncoder, trainLimit: 64 });
      return moved;
    };
    // The head starts at zero, so no gradient reaches the encoder in step 1; step 2 is the encoder's
    // first non-zero gradient g, on Adam's second step: m/(1-0.9^2) over sqrt(v/(1-0.999^2)) is
    // (0.1/0.19)/sqrt(0.001/0.002) per weight, times lr 1e-2 and the schedule's factor at step 2 of 8
    const adam2 = 0.1 / 0.19 / Math.sqrt(0.001 / 0.002);
    const plain = await firstSteps({});
    expect(plain).toHaveLength(8); // 2 epochs of 4 steps
    expect(plain[1]).toBe(0);
    expect(plain[2]).toBeCloseTo(1e-2 * adam2 * cosineFactor({ step: 1, totalSteps: 8, stepsPerEpoch: 4 }, { warmupEpochs: 0, final: 0 }), 5); // the cosine: 0.96
    const warm = await firstSteps({ warmupEpochs: 1 }); // 4 warm-up steps: 1/4, 2/4, 3/4, 1
    expect(warm[1]).toBe(0);
    expect(warm[2]).toBeCloseTo(1e-2 * adam2 * 0.5, 5);
  });

  it('learns an easy labelled set far above chance, training the copy, and leaves the run encoder bit-identical, without leaking tensors', async () => {
    const parts = await build();
    const before = bytesOf(parts.encoder);
    const { seen, newEncoder } = spy(parts);
    const logs: string[] = [];
    const tensors = tf.memory().numTensors;
    const m = await runEvaluators(parts.final, parts.tasks[0].branch, parts.data, { batchSize: 64, seed: 0, newEncoder, log: (l) => logs.push(l) });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(m.finetune_top1).toBeGreaterThan(0.9); // chance: 0.25
    expect(logs.filter((l) => /fine-tune epoch \d\/3: loss [\d.]+ \([\d.]+ s\)/.test(l))).toHaveLength(3);
    // 3 epochs of 8 batches of 32 in training mode, then the 64 test images in eval mode
    expect(seen.train).toEqual(Array(24).fill(32));
    expect(seen.test).toEqual([32, 32]);
    expect(seen.moved.get('conv1.weight')).toBeGreaterThan(1e-3); // the encoder was fine-tuned, not only the head
    const after = bytesOf(parts.encoder);
    for (const [name, b] of before) expect(after.get(name)!.equals(b), name).toBe(true);
  });

  it('uses eval.trainLimit, evalView and layerDecay', async () => {
    const parts = await build({ epochs: 2, batchSize: 16, layerDecay: 1e-6 }, { trainLimit: 40 });
    const { seen, newEncoder } = spy(parts);
    const ctx = { batchSize: 64, seed: 0, newEncoder, trainLimit: 40 };
    await runEvaluators(parts.final, parts.tasks[0].branch, parts.data, ctx);
    expect(seen.train).toEqual(Array(4).fill(16)); // floor(40 / 16) = 2 batches per epoch
    expect(seen.moved.get('conv1.weight')).toBeLessThan(1e-6); // the encoder's lr is 1e-6 of the head's
    // a view that blanks every image: one prediction for all, exactly chance on the balanced test split
    const blank = await runEvaluators(parts.final, parts.tasks[0].branch, parts.data, { ...ctx, evalView: (x) => tf.mul(x, 0) });
    expect(blank.finetune_top1).toBe(0.25);
  });

  it('layer-wise decay on a ViT: each block moves less than the one after it, the final norm as much as the head', async () => {
    const parts = await build({ epochs: 1, batchSize: 32, layerDecay: 0.1 }, {}, { type: 'vit', dim: 8, depth: 2, heads: 2, patchSize: 4 });
    const { seen, newEncoder } = spy(parts);
    await runEvaluators(parts.final, parts.tasks[0].branch, parts.data, { batchSize: 64, seed: 0, newEncoder });
    const moved = (prefix: string) => Math.max(...[...seen.moved].filter(([n]) => n.startsWith(prefix)).map(([, d]) => d));
    // lr x 0.1^3, 0.1^2, 0.1, 1 (8 steps of AdamW at lr 1e-2: at most 0.08 with no decay)
    expect(moved('patch.')).toBeLessThan(moved('blocks.0.') / 3);
    expect(moved('blocks.0.')).toBeLessThan(moved('blocks.1.') / 3);
    expect(moved('blocks.1.')).toBeLessThan(moved('norm.') / 3);
    expect(moved('norm.')).toBeGreaterThan(5e-3);
  });

  it('runs as a final evaluator of a training run (the trainer gives it the encoder copy)', async () => {
    const { config, registry } = await resolveExperiment(
      tinySimclr({
        train: { epochs: 1, batchSize: 16, checkpointEvery: 0 },
        eval: { every: 0, monitor: [], final: [{ type: 'fine-tune', epochs: 1, batchSize: 16 }] },
      }),
    );
    const r = await train(config, { registry });
    expect(r.eval.finetune_top1).toBeGreaterThanOrEqual(0);
    expect(r.eval.finetune_top1).toBeLessThanOrEqual(1);
  });
});
