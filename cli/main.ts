/**
 * The `selfsup` command: parses arguments, registers the built-in plugins and any the user names,
 * and calls core. Every error a user can cause prints a sentence (no stack unless --verbose) and
 * exits non-zero: 2 for a bad config, 3 for a training failure, 4 for data.
 */
import { Command, Option } from 'commander';
import { SelfsupError, asEnvironmentError } from '../core/index.js';
import { benchCommand } from './commands/bench.js';
import { embedCommand } from './commands/embed.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { newPluginCommand } from './commands/new-plugin.js';
import { playgroundCommand } from './commands/playground.js';
import { pluginsCommand } from './commands/plugins.js';
import { presetsCommand } from './commands/presets.js';
import { reportCommand } from './commands/report.js';
import { schemaCommand } from './commands/schema.js';
import { sweepCommand } from './commands/sweep.js';
import { trainCommand } from './commands/train.js';
import { validateCommand } from './commands/validate.js';
import { selfsupVersion } from './version.js';

const collect = (v: string, prev: string[]) => [...prev, v];
const verbose = process.argv.includes('--verbose');

const program = new Command('selfsup')
  .description('composable self-supervised visual representation learning on TensorFlow.js')
  .version(selfsupVersion())
  .option('--verbose', 'show stack traces on errors')
  .showHelpAfterError();

const withConfigOptions = (c: Command) =>
  c
    .option('--set <key=value>', 'override a config value, typed by the schema (repeatable)', collect, [])
    .option('--plugin <module>', 'load plugins from an ES module (repeatable)', collect, []);

withConfigOptions(
  program
    .command('train [preset]')
    .description('train a preset or config file (as the argument or --preset), then evaluate the encoder')
    .option('--preset <name|file>', 'preset name (selfsup presets) or config file (default simclr)')
    .option('--out <dir>', 'output directory for checkpoints, metrics.jsonl and result.json (default runs/<name>-<time>)')
    .option('--resume <dir>', 'continue the run whose checkpoint is in <dir>')
    .option('--previous', 'with --resume: continue from the checkpoint before the last one (kept for when the last is damaged)')
    .option('--force', 'start a new run in --out although it is not empty (a previous run there is replaced; nothing else is touched)')
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend: auto, tensorflow, webgpu, wasm, cpu, or one a plugin adds'))
    .option('--json', 'print the result as one JSON line on stdout (last line)'),
).action((preset: string | undefined, o) => {
  if (preset && o.preset && preset !== o.preset) throw new SelfsupError(`two presets given: '${preset}' and --preset '${o.preset}'; give one`, 2);
  if (o.resume && (preset ?? o.preset) !== undefined)
    throw new SelfsupError(
      `--resume continues the run in ${o.resume} with its own config; '${preset ?? o.preset}' would be ignored: drop it, or start a new run with --out`,
      2,
    );
  if (o.previous && !o.resume) throw new SelfsupError('--previous applies to --resume DIR: give the run to resume', 2);
  if (o.force && !o.out)
    throw new SelfsupError('--force applies to --out DIR (a new run without --out gets a fresh directory): give --out, or drop --force', 2);
  if ((preset ?? o.preset) === '') throw new SelfsupError('the preset name is empty: give a preset (selfsup presets) or a config file', 2);
  return trainCommand({ ...o, preset: preset ?? o.preset ?? 'simclr' });
});

withConfigOptions(
  program
    .command('validate [file]')
    .description('check a config or preset (as the argument or --preset) and print it resolved')
    .option('--preset <name|file>', 'the same as the argument')
    .option('--load-plugins', 'import the plugin modules the config names (their code runs) and check their options')
    .option('--json', 'machine-readable output'),
).action((file: string | undefined, o) => {
  const target = file ?? o.preset;
  if (!target) throw new SelfsupError('validate needs a config file or preset: selfsup validate FILE (or --preset NAME)', 2);
  if (file && o.preset && file !== o.preset) throw new SelfsupError(`two configs given: '${file}' and --preset '${o.preset}'; give one`, 2);
  return validateCommand(target, o);
});

program
  .command('plugins')
  .description('list registered plugins')
  .option('--json', 'machine-readable output')
  .option('--plugin <module>', 'also load plugins from a module (repeatable)', collect, [])
  .action((o) => pluginsCommand(o));
program
  .command('presets')
  .description('list presets')
  .option('--json', 'machine-readable output')
  .action((o) => presetsCommand(o));
program
  .command('schema')
  .description('print the composed JSON Schema of configs (for editors: "$schema"), or of sweep specs with --sweep')
  .option('--plugin <module>', 'include plugins from a module (repeatable)', collect, [])
  .option('--sweep', 'the schema of sweep specs instead')
  .action((o) => schemaCommand(o));
withConfigOptions(
  program
    .command('eval')
    .description(
      "evaluate a checkpoint's encoder with its final evaluators (kNN, linear probe; --set eval.final=[...]), and its random weights with eval.baseline",
    )
    .requiredOption('--checkpoint <dir>', 'a run directory holding checkpoint.json')
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend: auto, tensorflow, webgpu, wasm, cpu, or one a plugin adds'))
    .option('--json', 'print the result as one JSON line on stdout'),
).action((o) => evalCommand(o));
withConfigOptions(
  program
    .command('export')
    .description(
      "export a checkpoint's encoder (pixels in [0, 1] -> h, and z with --with-head) as ONNX or a TensorFlow.js graph model, checked against selfsup's own features",
    )
    .requiredOption('--checkpoint <dir>', 'a run directory holding checkpoint.json')
    .addOption(new Option('--format <format>', 'onnx or tfjs').choices(['onnx', 'tfjs']).default('onnx'))
    .option('--with-head', "also output the projection head's z")
    .option('--out <path>', 'the .onnx file or the tfjs directory (default <checkpoint>/export/encoder.onnx or <checkpoint>/export/tfjs)')
    .option('--force', 'replace an existing export at --out')
    .option('--json', 'print the result as one JSON line on stdout'),
).action((o) => exportCommand(o));

withConfigOptions(
  program
    .command('embed')
    .description(
      "write a checkpoint's encoder features h of a split (features.npy, index.csv), its nearest neighbours (neighbours.png) and a UMAP page (umap.json, index.html)",
    )
    .requiredOption('--checkpoint <dir>', 'a run directory holding checkpoint.json')
    .option('--out <dir>', 'the directory to write (default <checkpoint>/embed)')
    .option('--force', 'replace a non-empty --out')
    .addOption(new Option('--split <split>', 'the split to embed').choices(['train', 'test']).default('test'))
    .option('--limit <n>', 'embed only the first N images of the split')
    .option('--data <json>', "a dataset config replacing the checkpoint's (the same as --set data=JSON)")
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend: auto, tensorflow, webgpu, wasm, cpu, or one a plugin adds'))
    .option('--json', 'print the result as one JSON line on stdout'),
).action((o) => embedCommand(o));

program
  .command('new')
  .description('write a new plugin to start from')
  .command('plugin <kind> <name>')
  .description(
    'write <name>.mjs (options schema, doc comment, factory), <name>.test.mjs (a vitest contract test) and <name>.config.json (a config that trains with it); kinds: augmenter, encoder, head, loss',
  )
  .option('--dir <dir>', 'where to write them (default: the current directory)')
  .option('--json', 'print the written files as one JSON line')
  .action((kind: string, name: string, o) => newPluginCommand(kind, name, o));

program
  .command('sweep <spec>')
  .description(
    'run an ablation sweep: every trial validated first, run in worker processes, results in <out>/sweep.db, report written at the end; rerun to resume',
  )
  .option('--workers <n>', 'worker processes (each with its own backend)', '1')
  .option(
    '--queue <url>',
    'run the trials on `selfsup worker`s through Redis (redis://[user:password@]host:port/db, rediss:// for TLS) instead of local processes',
  )
  .option(
    '--attempts <n>',
    'with --queue: runs of a trial after errors that may pass (a dead trial process), with backoff; training errors are never retried',
    '2',
  )
  .option(
    '--connect-seconds <s>',
    'with --queue: give up when Redis cannot be reached at the start for this long (once started, the sweep waits out outages)',
    '30',
  )
  .option('--out <dir>', 'sweep directory (default sweeps/<name>)')
  .option('--retry-failed', 'also rerun trials that failed before')
  .option('--dry-run', 'validate and list the trials, run nothing')
  .option('--json', 'print the summary as one JSON line on stdout')
  .action((spec, o) => sweepCommand(spec, o));
program
  .command('worker')
  .description('train sweep trials taken from a Redis queue (the coordinator is `selfsup sweep SPEC --queue URL`), each in its own process; runs until stopped')
  .requiredOption(
    '--queue <url>',
    'the Redis the coordinator enqueues on: redis://[user:password@]host:port/db, rediss:// for TLS (or the password in SELFSUP_REDIS_PASSWORD)',
  )
  .option('--concurrency <n>', 'trials trained at once, each in its own process; the cores are shared out', '1')
  .addOption(new Option('--backend <name>', "train every trial on this backend instead of its config's (tensorflow, webgpu, native, wasm, cpu)"))
  .option(
    '--artifacts <dir>',
    'where trials train (<dir>/<hash>/: checkpoint, train.log); on storage shared by the workers a retried trial resumes from its checkpoint on any machine',
    'selfsup-trials',
  )
  .option('--lock-seconds <s>', 'a worker silent this long is stalled and its trials are retried elsewhere', '30')
  .action(async (o) => (await import('./commands/worker.js')).workerCommand(o));
program
  .command('bench')
  .description(
    'median training-step time of SimCLR and MoCo with the small CNN and ResNet-18, and SimCLR and MAE with ViT-tiny, on the chosen backend (never part of npm test)',
  )
  .option(
    '--cases <list>',
    'all, or a comma list of simclr-smallcnn, moco-smallcnn, moco-v2-preset-smallcnn, simclr-resnet18, moco-resnet18, simclr-vit-tiny, mae-vit-tiny',
    'all',
  )
  .option('--batch <n>', "images per step (default: the case's PyTorch peer's: 256, 64 for simclr-vit-tiny, 128 for mae-vit-tiny)")
  .option('--steps <n>', 'timed steps', '10')
  .option('--warmup <n>', 'untimed steps first', '3')
  .addOption(new Option('--backend <name>', 'TensorFlow.js backend: auto, tensorflow, webgpu, wasm, cpu, or one a plugin adds').default('auto'))
  .option('--profile', 'also profile one step per case (tf.profile) and list the kernels by time')
  .option('--json', 'print the results as one JSON line on stdout')
  .addOption(new Option('--one <case>').hideHelp())
  .action((o) => benchCommand(o));
program
  .command('playground')
  .description('serve the browser playground (train any preset live in a tab, wasm with threads) and print its URL')
  .option('--port <n>', 'port (0: any free one)', '8765')
  .option('--host <h>', 'address to listen on', '127.0.0.1')
  .action((o) => playgroundCommand(o));
program
  .command('report <dir>')
  .description("rebuild a sweep's report.md and report.html (table and plots) from its sweep.db")
  .option('--json', 'print the summary (mean, std per combination) as JSON')
  .action((dir, o) => reportCommand(dir, o));

try {
  await program.parseAsync(process.argv);
  process.exit(0);
} catch (caught) {
  // a system error (a full disk, no permission, a read-only file system) is the environment's, exit 5
  const err = asEnvironmentError(caught, 'go on');
  if (err instanceof SelfsupError) {
    process.stderr.write(`error: ${err.message}\n`);
    if (verbose) process.stderr.write(`${(err as { cause?: Error }).cause?.stack ?? err.stack}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`internal error: ${(err as Error)?.message ?? String(err)}\n`);
  if (verbose) process.stderr.write(`${(err as Error)?.stack}\n`);
  else process.stderr.write('run again with --verbose for the stack trace\n');
  process.exit(1);
}
