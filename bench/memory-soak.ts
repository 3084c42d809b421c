/**
 * Memory over many training steps: one `selfsup bench` case (cli/step-bench.ts) for `--steps`
 * steps on a backend, sampling the live tensor count and the process RSS every `--every` steps.
 * Flat tensors = nothing leaks in tfjs; flat RSS after warm-up = nothing leaks below it (the native
 * backend's recycled buffers, its addon, V8). Prints a table of the samples and a verdict.
 *
 *   node dist/bench/memory-soak.js [--case simclr-smallcnn] [--backend native] [--steps 1000] [--every 100] [--batch N]
 */
import { createRegistry, markdownTable, selectBackend, tf } from '../cli/api.js';
import { STEP_CASES, benchSteps } from '../cli/step-bench.js';
import { formatCpuInfo } from '../cli/cpu-info.js';
import { benchArgs, log, refuse } from './common.js';

const a = benchArgs({
  case: { type: 'string', default: 'simclr-smallcnn' },
  backend: { type: 'string', default: 'native' },
  steps: { type: 'string', default: '1000' },
  every: { type: 'string', default: '100' },
  batch: { type: 'string' },
});
const c = STEP_CASES.find((s) => s.name === a.case);
if (!c) refuse(`unknown case '${a.case}' (cases: ${STEP_CASES.map((s) => s.name).join(', ')})`);
const steps = Number(a.steps),
  every = Number(a.every);
const registry = createRegistry();
const backend = await selectBackend(registry, a.backend!, log);
log(formatCpuInfo());
log(`backend ${backend.name} (${backend.details})`);
const samples: Array<{ step: number; tensors: number; rssMiB: number; ms: number }> = [];
const started = performance.now();
await benchSteps(c, {
  registry,
  batch: Number(a.batch ?? c.batch ?? 256),
  warmup: 0,
  steps,
  onStep: (i, total, ms) => {
    if (i === 1 || i % every === 0 || i === total) {
      samples.push({ step: i, tensors: tf.memory().numTensors, rssMiB: process.memoryUsage().rss / 2 ** 20, ms });
      const elapsed = (performance.now() - started) / 1000;
      log(
        `step ${i}/${total}: ${tf.memory().numTensors} tensors, RSS ${samples[samples.length - 1].rssMiB.toFixed(0)} MiB, ${ms.toFixed(0)} ms/step (${elapsed.toFixed(0)} s)`,
      );
    }
  },
});
const afterWarmup = samples.filter((s) => s.step >= Math.min(every, steps));
const rss = afterWarmup.map((s) => s.rssMiB);
const tensorsFlat = samples.slice(1).every((s) => s.tensors === samples[1]?.tensors);
process.stdout.write(
  `\n${c.name} on ${backend.name}, ${steps} steps (${formatCpuInfo()})\n\n` +
    markdownTable(
      ['step', 'live tensors', 'RSS MiB', 'step ms'],
      samples.map((s) => [s.step, s.tensors, s.rssMiB.toFixed(0), s.ms.toFixed(0)]),
    ) +
    `\n\ntensors ${tensorsFlat ? 'flat' : 'NOT flat'} after step 1; RSS from step ${afterWarmup[0]?.step}: ${Math.min(...rss).toFixed(0)}-${Math.max(...rss).toFixed(0)} MiB (spread ${(Math.max(...rss) - Math.min(...rss)).toFixed(0)} MiB)\n`,
);
