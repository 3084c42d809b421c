/**
 * Wasm memory of one training step: the size of tfjs-backend-wasm's heap (it grows, never shrinks)
 * after a step of a preset at a batch size, the number that meets WebAssembly's 4 GiB ceiling.
 * Each case runs in its own process, so each heap starts small.
 *
 *   node dist/bench/wasm-heap.js [--case "moco-v3-vit 64"]... [--set k=v]...
 *
 * A case is "<preset> <batch> [k=v ...]"; the default cases are the ViT presets and SimCLR with
 * ResNet-18 on 32x32 synthetic images. SELFSUP_LEAN_GRADIENTS=0 measures tfjs's own backward pass.
 */
import { spawnSync } from 'node:child_process';
import { buildRun, createRegistry, makeBatch, markdownTable, progressAt, resolveExperiment, Rng, selectBackend, tf, trainStep } from '../cli/api.js';
import { benchArgs, log } from './common.js';

const a = benchArgs({ case: { type: 'string', multiple: true, default: [] }, one: { type: 'string' } });
const R18 = [
  'data={"type":"synthetic","train":512,"test":32,"size":32,"channels":3,"classes":10}',
  'encoder={"type":"resnet","depth":18}',
  'head.hiddenDim=512',
];
const DEFAULT_CASES = [
  'moco-v3-vit 64',
  'dino 64',
  'mae 256',
  'simclr 128 encoder={"type":"vit"}',
  `simclr 128 ${R18.join(' ')}`,
  `simclr 256 ${R18.join(' ')}`,
];

if (a.one) {
  const [preset, batch, ...sets] = a.one.split(' ');
  const registry = createRegistry();
  await selectBackend(registry, 'wasm');
  const { config } = await resolveExperiment(preset, { registry, sets: [`train.batchSize=${batch}`, 'data.trainLimit=512', ...sets] });
  const parts = await buildRun(config, { registry });
  const b = makeBatch(
    parts.data.train,
    parts.info,
    Int32Array.from({ length: Number(batch) }, (_, i) => i),
  );
  const wasm = (tf.backend() as unknown as { wasm: { wasmMemory?: { buffer: ArrayBuffer }; asm?: { memory: { buffer: ArrayBuffer } } } }).wasm;
  const heapMiB = () => ((wasm.wasmMemory ?? wasm.asm!.memory).buffer.byteLength / 2 ** 20).toFixed(0);
  try {
    await trainStep(parts, b, Rng.fromSeed(0), 1, progressAt(0, 10, 10));
    process.stdout.write(`${heapMiB()}\n`);
  } catch (e) {
    process.stdout.write(`out of memory (${heapMiB()} MiB: ${(e as Error).message.slice(0, 60)})\n`);
  }
  process.exit(0);
}

const rows: string[][] = [];
for (const c of a.case!.length ? a.case! : DEFAULT_CASES) {
  log(`== ${c}`);
  const r = spawnSync(process.execPath, [process.argv[1], '--one', c], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  rows.push([c.split(' ').slice(0, 2).join(', batch '), c.split(' ').slice(2).join(' ') || '-', r.stdout.trim().split('\n').pop() ?? `failed (${r.status})`]);
}
process.stdout.write(
  `\nwasm heap after one training step (MiB)${process.env.SELFSUP_LEAN_GRADIENTS === '0' ? ", tfjs's own backward pass" : ''}\n\n` +
    markdownTable(['preset', 'sets', 'heap MiB'], rows) +
    '\n',
);
