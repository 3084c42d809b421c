import { spawnSync } from 'node:child_process';
import { SelfsupError, createRegistry, selectBackend } from '../api.js';
import { cpuInfo, formatCpuInfo } from '../cpu-info.js';
import { STEP_CASES, benchSteps, type StepBenchResult } from '../step-bench.js';
import { table } from './format.js';

export interface BenchFlags {
  cases: string;
  /** images per step; default: each case's own (`StepCase.batch`, else 256) */
  batch?: string;
  steps: string;
  warmup: string;
  backend: string;
  json?: boolean;
  profile?: boolean;
  /** internal: run one case in this process and print its result as JSON */
  one?: string;
}

type Row = (StepBenchResult & { backend: string; details: string }) | { case: string; error: string };
const log = (m: string) => process.stderr.write(`${m}\n`);

/**
 * `selfsup bench`: the SimCLR and MoCo steps with the small CNN and ResNet-18, each in its own
 * process (peak RSS per case; an out-of-memory abort ends that case only), then a table.
 */
export async function benchCommand(o: BenchFlags): Promise<void> {
  const opts = { steps: Number(o.steps), warmup: Number(o.warmup) };
  const given = o.batch === undefined ? undefined : Number(o.batch);
  const batchOf = (c: (typeof STEP_CASES)[number]) => given ?? c.batch ?? 256;
  if (!(opts.steps >= 1 && opts.warmup >= 0 && (given === undefined || given >= 2)))
    throw new SelfsupError('--batch >= 2, --steps >= 1 and --warmup >= 0 are needed', 2);
  if (o.one) {
    const c = STEP_CASES.find((x) => x.name === o.one);
    if (!c) throw new SelfsupError(`unknown case '${o.one}'`, 2);
    const registry = createRegistry();
    const b = await selectBackend(registry, o.backend, log);
    try {
      const r = await benchSteps(c, {
        registry,
        ...opts,
        batch: batchOf(c),
        profile: o.profile,
        onStep: (i, n, ms) => log(`${c.name}: step ${i}/${n} ${ms.toFixed(0)} ms`),
      });
      process.stdout.write(JSON.stringify({ ...r, backend: b.name, details: b.details ?? '' }) + '\n');
    } catch (e) {
      // the parent puts the reason in its table (wasm memory exhausted, ...)
      process.stdout.write(JSON.stringify({ case: c.name, error: (e as Error).message }) + '\n');
      process.exitCode = 1;
    }
    return;
  }
  const names = o.cases === 'all' ? STEP_CASES.map((c) => c.name) : o.cases.split(',');
  for (const n of names)
    if (!STEP_CASES.some((c) => c.name === n)) throw new SelfsupError(`unknown case '${n}' (cases: ${STEP_CASES.map((c) => c.name).join(', ')})`, 2);
  const rows: Row[] = [];
  for (const name of names) {
    const batch = String(batchOf(STEP_CASES.find((c) => c.name === name)!));
    log(`== ${name}, batch ${batch}: ${opts.warmup} warm-up + ${opts.steps} timed steps`);
    const r = spawnSync(
      process.execPath,
      [
        process.argv[1],
        'bench',
        '--one',
        name,
        '--batch',
        batch,
        '--steps',
        o.steps,
        '--warmup',
        o.warmup,
        '--backend',
        o.backend,
        ...(o.profile ? ['--profile'] : []),
      ],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const last = r.stdout.trim().split('\n').pop() ?? '';
    const parsed = last.startsWith('{') ? (JSON.parse(last) as Row) : undefined;
    if (parsed && (r.status === 0 || 'error' in parsed)) rows.push(parsed);
    else
      rows.push({
        case: name,
        error: r.status === 7 || /memory/i.test(last) ? `failed (exit ${r.status}): out of memory?` : `failed (exit ${r.status ?? r.signal})`,
      });
  }
  const cpu = cpuInfo();
  if (o.json) {
    process.stdout.write(JSON.stringify({ bench: 'steps', cpu, batch: given ?? 'per case', steps: opts.steps, warmup: opts.warmup, results: rows }) + '\n');
    return;
  }
  const ok = rows.find((r): r is Extract<Row, { backend: string }> => 'backend' in r);
  process.stdout.write(`\n${formatCpuInfo(cpu)}`);
  process.stdout.write(
    `\nbackend ${ok?.backend ?? o.backend}${ok ? ` (${ok.details})` : ''}, batch ${given ?? 'per case (column batch)'}, median of ${opts.steps} steps after ${opts.warmup} warm-up\n\n`,
  );
  process.stdout.write(
    table(
      ['case', 'batch', 'views', 'median step ms', 'views/s', 'peak RSS MiB', 'live tensors (first, last)'],
      rows.map((r) =>
        'error' in r
          ? [r.case, '-', '-', r.error, '-', '-', '-']
          : [r.case, r.batch, r.views, r.medianMs.toFixed(0), Math.round(r.viewsPerSecond), Math.round(r.peakRssMiB), `${r.tensors[0]}, ${r.tensors[1]}`],
      ),
    ) + '\n',
  );
  for (const r of rows) {
    if (!('kernels' in r) || !r.kernels) continue;
    const total = r.kernels.reduce((a, k) => a + k.ms, 0);
    process.stdout.write(`\n${r.case}: kernels of one profiled step (tf.profile), ${total.toFixed(0)} ms in kernels\n\n`);
    process.stdout.write(
      table(
        ['kernel', 'calls', 'ms', 'share', 'slowest call inputs'],
        r.kernels.slice(0, 15).map((k) => [k.name, k.calls, k.ms.toFixed(1), `${((100 * k.ms) / total).toFixed(1)}%`, k.slowest]),
      ) + '\n',
    );
  }
}
