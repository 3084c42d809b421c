import { describe, expect, it } from 'vitest';
import { ConfigError, createRegistry, mergeConfig, resolveExperiment, schemaOf, validateConfig } from '../../../cli/api.js';
import { tinySimclr } from '../../helpers.js';

async function problems(cfg: Record<string, unknown>, sets: string[] = []) {
  try {
    await resolveExperiment(cfg, { sets });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).exitCode).toBe(2);
    return (e as ConfigError).problems;
  }
  throw new Error('config was accepted');
}

describe('config validation', () => {
  it('fills defaults from every plugin schema in one pass and normalises the single task to tasks.main', async () => {
    const { config } = await resolveExperiment(tinySimclr({ loss: { type: 'info-nce' } }));
    expect(config.tasks.main.loss).toEqual({ type: 'info-nce', temperature: 0.5, symmetric: true, online: 'z', target: 'z', pairNegatives: false });
    expect(config.tasks.main.weight).toBe(1);
    expect(config.train.concatViews).toBe(true);
    expect((config.tasks.main.augmenter as unknown as { pipeline: Array<Record<string, unknown>> }).pipeline[0]).toEqual({
      type: 'random-resized-crop',
      scale: [0.5, 1],
      ratio: [0.75, 4 / 3],
    });
  });

  it('unknown plugin name: path and a did-you-mean hint', async () => {
    const p = await problems(tinySimclr({ loss: { type: 'info-nc' } }));
    expect(p).toEqual([{ path: '/loss/type', message: "unknown loss 'info-nc'", hint: "did you mean 'info-nce'?" }]);
  });

  it('unknown key: path and the closest allowed key', async () => {
    const p = await problems(tinySimclr({ loss: { type: 'info-nce', temprature: 0.1 } }));
    expect(p).toEqual([{ path: '/loss/temprature', message: "unknown key 'temprature'", hint: "did you mean 'temperature'?" }]);
  });

  it('wrong type and out-of-range values, nested in a pipeline', async () => {
    const p = await problems(tinySimclr({ loss: { type: 'info-nce', temperature: 'hot' } }), ['augmenter.pipeline.1.p=1.5']);
    expect(p.map((x) => x.path).sort()).toEqual(['/augmenter/pipeline/1/p', '/loss/temperature']);
    expect(p.find((x) => x.path === '/loss/temperature')!.message).toMatch(/must be number, got "hot"/);
    expect(p.find((x) => x.path === '/augmenter/pipeline/1/p')!.message).toMatch(/must be <= 1, got 1.5/);
  });

  it('missing file: the dataset directory must exist', async () => {
    const p = await problems(tinySimclr({ data: { type: 'fashion-mnist', dir: '/no/such/dir' } }));
    expect(p).toHaveLength(1);
    expect(p[0].path).toBe('/data/dir');
    expect(p[0].message).toMatch(/dir not found: \/no\/such\/dir/);
  });

  it('missing task parts and unknown top-level keys', async () => {
    const cfg = tinySimclr({ epochs: 3 });
    delete cfg.loss;
    const p = await problems(cfg);
    expect(p).toEqual([{ path: '/epochs', message: "unknown key 'epochs'", hint: expect.stringMatching(/allowed: .*train/) }]);
    const p2 = await problems(Object.fromEntries(Object.entries(tinySimclr()).filter(([k]) => k !== 'loss')));
    expect(p2[0].path).toBe('/loss');
  });

  it('--set is typed by the schema and a changed plugin type drops the old options', async () => {
    const { config } = await resolveExperiment(tinySimclr(), {
      sets: ['loss.temperature=0.2', 'head.type=linear', 'head.outDim=32', 'train.concatViews=false'],
    });
    expect(config.tasks.main.loss.temperature).toBe(0.2);
    expect(config.tasks.main.head).toEqual({ type: 'linear', outDim: 32, bias: true });
    expect(config.train.concatViews).toBe(false);
    await expect(resolveExperiment(tinySimclr(), { sets: ['loss.temperature=warm'] })).rejects.toThrow(/--set loss.temperature: expected a number, got 'warm'/);
  });

  it('options set before a --set that changes the plugin type go onto the new plugin, and are checked against it', async () => {
    const { config } = await resolveExperiment(tinySimclr(), { sets: ['head.outDim=32', 'head.type=linear'] });
    expect(config.tasks.main.head).toEqual({ type: 'linear', outDim: 32, bias: true });
    const r = await resolveExperiment(tinySimclr(), { sets: ['encoder.depth=34', 'encoder.type=resnet'] });
    expect(r.config.encoder).toMatchObject({ type: 'resnet', depth: 34 });
    await expect(resolveExperiment(tinySimclr(), { sets: ['encoder.depth=19', 'encoder.type=resnet'] })).rejects.toThrow(/\/encoder\/depth: 19 is not allowed/);
    await expect(resolveExperiment(tinySimclr(), { sets: ['head.hiddenDim=32', 'head.type=linear'] })).rejects.toThrow(/unknown key 'hiddenDim'/);
  });

  it('extends a preset: objects merge, arrays replace', async () => {
    const { config } = await resolveExperiment({ extends: 'simclr', train: { epochs: 1 }, eval: { final: [{ type: 'knn' }] } });
    expect(config.train).toMatchObject({ epochs: 1, batchSize: 256 });
    expect(config.eval.final).toEqual([{ type: 'knn', k: 200, temperature: 0.1, features: 'h', chunk: 256 }]);
    expect(mergeConfig({ a: { type: 'x', p: 1 } }, { a: { type: 'y' } })).toEqual({ a: { type: 'y' } });
  });

  it('composes one JSON Schema with a discriminated oneOf per kind', () => {
    const s = schemaOf(createRegistry()) as { $defs: Record<string, { oneOf: Array<{ properties: { type: { const: string } } }> }> };
    const losses = s.$defs.loss.oneOf.map((b) => b.properties.type.const);
    expect(losses.slice(0, 4)).toEqual(['info-nce', 'cross-entropy', 'masked-l2', 'colorization']);
    expect(losses).toEqual(createRegistry().namesOf('loss')); // one branch per registered loss, in registration order
    expect(Object.keys(s.$defs)).toEqual(
      expect.arrayContaining([
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
      ]),
    );
  });

  it('multi-task configs validate through the same path', () => {
    const base = tinySimclr();
    const { augmenter, head, target, negatives, loss, ...rest } = base;
    const cfg = { ...rest, tasks: { a: { augmenter, head, target, negatives, loss, weight: 1 }, b: { augmenter, loss, target, negatives, weight: 0.5 } } };
    const r = validateConfig(cfg, createRegistry());
    expect(Object.keys(r.tasks)).toEqual(['a', 'b']);
    expect(r.tasks.b.head).toEqual({ type: 'identity' });
    expect(() => validateConfig({ ...cfg, loss }, createRegistry())).toThrow(/'loss' is set both at the top level and in 'tasks'/);
  });
});
