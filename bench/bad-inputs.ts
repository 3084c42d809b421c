/**
 * Bad inputs and faults: a corpus of things a careful user gets wrong (or that the machine does to
 * them), each tried with the real CLI in a fresh temp directory, and judged as issue 12 asks:
 * - the exit code of its class (config 2, training 3, data 4, environment 5, plugin 6, signals
 *   130 / 143, usage 1 or 2; or 0 where the input is fine and must be accepted);
 * - a message fragment the user needs (the file, the JSON path, the plugin named);
 * - no "internal error", and no stack trace without --verbose;
 * - nothing of a previous run changed (its files fingerprinted before and after), no temp files,
 *   no `selfsup-wasm-*` directory left in the case's TMPDIR, no empty run directory left behind.
 *
 *   node dist/bench/bad-inputs.js [--json] [--only <substring>]
 *
 * One line per case (ok / POOR with why, or skipped with the reason), then a Markdown table by
 * category and the list of poor cases with their exit code and first message line. Cases the
 * machine cannot stage (a read-only directory when running as root, a tmpfs where mount is not
 * permitted) are skipped with the reason printed and not counted. Exit 1 if fewer than 97% of the
 * counted cases are handled well.
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { markdownTable } from '../cli/api.js';
import { benchArgs, log } from './common.js';

const a = benchArgs({ json: { type: 'boolean', default: false }, only: { type: 'string' } });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'selfsup-bad-inputs-'));
// a snapshot of the built package, so a rebuild meanwhile (tsup cleans dist/) cannot fail a case;
// plugin modules written by the cases import 'selfsup' as a user's would: through node_modules
const PKG = path.join(work, 'pkg');
fs.mkdirSync(PKG);
fs.cpSync(path.resolve('dist'), path.join(PKG, 'dist'), { recursive: true });
fs.copyFileSync(path.resolve('package.json'), path.join(PKG, 'package.json'));
for (const d of ['presets', 'data', 'node_modules']) fs.symlinkSync(path.resolve(d), path.join(PKG, d), 'dir');
fs.mkdirSync(path.join(work, 'node_modules'));
fs.symlinkSync(PKG, path.join(work, 'node_modules', 'selfsup'), 'dir');
const BIN = path.join(PKG, 'dist/cli/main.js');

type Category =
  | 'config file'
  | '--set override'
  | 'plugin authoring'
  | 'data'
  | 'checkpoint/resume'
  | 'run directory'
  | 'environment/disk/permissions'
  | 'signals'
  | 'sweep spec'
  | 'CLI usage';
const CATEGORIES: Category[] = [
  'config file',
  '--set override',
  'plugin authoring',
  'data',
  'checkpoint/resume',
  'run directory',
  'environment/disk/permissions',
  'signals',
  'sweep spec',
  'CLI usage',
];
const CODES = {
  ok: [0],
  config: [2],
  training: [3],
  data: [4],
  environment: [5],
  plugin: [6],
  usage: [1, 2],
  'config or plugin': [2, 6],
  'config or data': [2, 4],
  'config or environment': [2, 5],
  sigint: [130],
  sigterm: [143],
} as const;
type Class = keyof typeof CODES;

interface Ctx {
  /** the case's directory (the command's working directory) */
  dir: string;
  /** write a file under dir (parents made); returns its absolute path */
  file(name: string, content: string | Buffer): string;
  /** copy the reference run into dir/name; returns its absolute path */
  run(name?: string): string;
}
interface Result {
  code: number | null;
  out: string;
  err: string;
}
interface Case {
  name: string;
  category: Category;
  /** prepare files; a string returned is a reason to skip the case */
  setup?: (c: Ctx) => void | string | Promise<void | string>;
  args: string[] | ((c: Ctx) => string[]);
  expect: Class;
  /** fragments the message must contain (stderr and stdout) */
  says?: Array<string | RegExp>;
  /** a directory (relative to the case) holding a previous run, whose files must stay byte-identical */
  previous?: string;
  /** only these of the previous run's files (a resume that fails appends to metrics.jsonl, which the next resume trims) */
  previousOnly?: RegExp;
  /** a path (relative) that must not exist afterwards (a failed new run leaves no directory) */
  absent?: string;
  env?: Record<string, string>;
  /** send this signal once the run reports this step (twice: a second signal right after) */
  signal?: { signal: 'SIGINT' | 'SIGTERM'; atStep: number; twice?: boolean; when?: RegExp; delayMs?: number };
  /** a further check; returns why it is poor, or undefined */
  check?: (c: Ctx, r: Result) => string | undefined;
  /** undo what setup did outside the case directory (unmount) */
  cleanup?: (c: Ctx) => void;
}

// ---- shared material ------------------------------------------------------------------------

/** tiny training settings: each run takes a second or two */
const TINY = [
  '--set',
  'train.epochs=1',
  '--set',
  'data.trainLimit=128',
  '--set',
  'train.batchSize=32',
  '--set',
  'eval.baseline=false',
  '--set',
  'eval.final=[]',
];
const SYN = ['--set', 'data={"type":"synthetic","train":128,"test":32,"size":16}', '--set', 'train.epochs=1', '--set', 'train.batchSize=32'];
const SYN_NOEVAL = [...SYN, '--set', 'eval.baseline=false', '--set', 'eval.final=[]', '--set', 'eval.monitor=[]'];
const train = (preset: string, ...rest: string[]) => ['train', '--preset', preset, ...TINY, ...rest];
const trainSyn = (preset: string, ...rest: string[]) => ['train', '--preset', preset, ...SYN_NOEVAL, ...rest];
const PROGRESS = ['--set', 'callbacks=[{"type":"progress","every":1}]'];

const IMPORT = `import { definePlugin, Type, tf, ParamStore } from 'selfsup';\n`;
/** a plugin module: `definePlugin({kind, name, description, options: Type.Object({}), create})` */
const pluginModule = (kind: string, name: string, create: string, extra = '') =>
  `${IMPORT}export default definePlugin({ kind: '${kind}', name: '${name}', description: 'test plugin', options: Type.Object({}),${extra} create: ${create} });\n`;
const lossPlugin = (name: string, compute: string, extra = '') => pluginModule('loss', name, `() => ({ ${extra}compute: ${compute} })`);

const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 10, g: 20, b: 30 } } })
  .png()
  .toBuffer();
const imageFolder = (c: Ctx, classes: Record<string, number>, split = 'train') => {
  for (const [cls, n] of Object.entries(classes)) {
    fs.mkdirSync(path.join(c.dir, 'imgs', split, cls), { recursive: true });
    for (let i = 0; i < n; i++) c.file(`imgs/${split}/${cls}/${i}.png`, png);
  }
};
const IMG = (extra = '') => ['--set', `data={"type":"image-folder","root":"imgs","size":8${extra}}`, '--set', 'train.batchSize=2'];

const idx = (magic: number, dims: number[], body: Buffer) => {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return zlib.gzipSync(Buffer.concat([head, body]));
};
const FMNIST = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];
const fmnist = (c: Ctx, n = 8, over: Record<string, Buffer> = {}) => {
  const files: Record<string, Buffer> = {
    [FMNIST[0]]: idx(0x803, [n, 28, 28], Buffer.alloc(n * 784, 7)),
    [FMNIST[1]]: idx(0x801, [n], Buffer.alloc(n, 1)),
    [FMNIST[2]]: idx(0x803, [n, 28, 28], Buffer.alloc(n * 784, 7)),
    [FMNIST[3]]: idx(0x801, [n], Buffer.alloc(n, 1)),
    ...over,
  };
  for (const [f, b] of Object.entries(files)) c.file(`fm/${f}`, b);
};
const FM = ['--set', 'data={"type":"fashion-mnist","dir":"fm"}', '--set', 'train.batchSize=4'];

/** whether chmod stops this process from writing (it does not for root) */
const chmodBites = (() => {
  const d = fs.mkdtempSync(path.join(work, 'chmod-probe-'));
  fs.chmodSync(d, 0o500);
  try {
    fs.writeFileSync(path.join(d, 'x'), 'x');
    return false;
  } catch {
    return true;
  } finally {
    fs.chmodSync(d, 0o700);
  }
})();
const NEEDS_CHMOD = chmodBites ? undefined : `running as uid ${process.getuid?.()}, where chmod does not stop writes`;

/** mount a tmpfs at dir/name (size, options); a string is why it cannot be done here */
const mountTmpfs = (c: Ctx, name: string, opts: string): string | undefined => {
  const at = path.join(c.dir, name);
  fs.mkdirSync(at, { recursive: true });
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', at], { encoding: 'utf8' });
  return m.status === 0 ? undefined : `cannot mount a tmpfs here (${(m.stderr || m.error?.message || `exit ${m.status}`).trim()})`;
};
const unmount = (c: Ctx, name: string) => spawnSync('umount', [path.join(c.dir, name)]);

const sweepSpec = (spec: Record<string, unknown>) => JSON.stringify({ extends: 'simclr', set: SWEEP_TINY, ...spec });
const SWEEP_TINY = {
  'data.trainLimit': 128,
  'train.epochs': 1,
  'train.batchSize': 32,
  'eval.baseline': false,
  'eval.final': [],
};
const tmpLeft = (dir: string) =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => f.includes('.tmp-'))
    : [];

// ---- the corpus -----------------------------------------------------------------------------

const cases: Case[] = [
  // config file
  {
    name: 'config: syntax error (missing comma)',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "simclr"\n  "seed": 1 }'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['c.json', 'line 2'],
  },
  {
    name: 'config: trailing comma',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "simclr", }'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['c.json', /line 1/],
  },
  {
    name: 'config: UTF-8 byte-order mark is accepted',
    category: 'config file',
    setup: (c) => void c.file('c.json', '\ufeff{ "extends": "simclr" }'),
    args: ['validate', 'c.json'],
    expect: 'ok',
  },
  {
    name: 'config: // comments',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{\n  // mine\n  "extends": "simclr"\n}'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['c.json', /no comments/],
  },
  {
    name: 'config: /* */ comments',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ /* mine */ "extends": "simclr" }'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['c.json', /comments/],
  },
  {
    name: 'config: empty file',
    category: 'config file',
    setup: (c) => void c.file('c.json', ''),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['c.json'],
  },
  {
    name: 'config: only whitespace',
    category: 'config file',
    setup: (c) => void c.file('c.json', '  \n\n'),
    args: ['train', 'c.json', ...TINY],
    expect: 'config',
    says: ['c.json'],
  },
  {
    name: 'config: top level is an array',
    category: 'config file',
    setup: (c) => void c.file('c.json', '[{ "extends": "simclr" }]'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['c.json', /object/],
  },
  {
    name: 'config: top level is null',
    category: 'config file',
    setup: (c) => void c.file('c.json', 'null'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['c.json', /object/],
  },
  {
    name: 'config: a directory',
    category: 'config file',
    setup: (c) => void c.file('cfgs/a.json', '{}'),
    args: ['validate', './cfgs'],
    expect: 'config',
    says: ['is a directory', 'a.json'],
  },
  { name: 'config: missing file', category: 'config file', args: ['train', './nope.json', ...TINY], expect: 'config', says: ['nope.json'] },
  {
    name: 'config: unknown top-level key (typo)',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "simclr", "trian": { "epochs": 1 } }'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['/trian', "'train'"],
  },
  {
    name: 'config: unknown loss type (typo)',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "simclr", "loss": { "type": "info-nc" } }'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['/loss', 'info-nce'],
  },
  {
    name: 'config: extends an unknown preset',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "simclrr" }'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['simclrr', "'simclr'"],
  },
  {
    name: 'config: extends cycle a -> b -> a',
    category: 'config file',
    setup: (c) => {
      c.file('a.json', '{ "extends": "./b.json" }');
      c.file('b.json', '{ "extends": "./a.json" }');
    },
    args: ['validate', 'a.json'],
    expect: 'config',
    says: ['a.json', 'b.json'],
  },
  {
    name: 'config: extends itself',
    category: 'config file',
    setup: (c) => void c.file('a.json', '{ "extends": "./a.json" }'),
    args: ['validate', 'a.json'],
    expect: 'config',
    says: ['a.json'],
  },
  {
    name: 'config: extends a missing file',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "./base.json" }'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['base.json'],
  },
  {
    name: 'config: extends a file with a syntax error',
    category: 'config file',
    setup: (c) => {
      c.file('base.json', '{ "extends": "simclr", }');
      c.file('c.json', '{ "extends": "./base.json" }');
    },
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['base.json'],
  },
  {
    name: 'config: epochs as a string',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "simclr", "train": { "epochs": "ten" } }'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['/train/epochs', /integer|number/],
  },
  {
    name: 'config: negative batch size',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "simclr", "train": { "batchSize": -64 } }'),
    args: ['train', 'c.json'],
    expect: 'config',
    says: ['/train/batchSize', 'c.json'],
  },
  {
    name: 'config: zero epochs',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "simclr", "train": { "epochs": 0 } }'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['/train/epochs'],
  },
  {
    name: 'config: boolean option given "yes"',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "simclr", "loss": { "symmetric": "yes" } }'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['/loss/symmetric', /boolean/],
  },
  {
    name: 'config: schedule type typo',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "simclr", "schedule": { "type": "cosin" } }'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['/schedule', "'cosine'"],
  },
  {
    name: 'config: backend not one of the allowed',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "simclr", "backend": "gpu" }'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['/backend', "'cpu'"],
  },
  {
    name: 'config: seed 1.5',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "simclr", "seed": 1.5 }'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['/seed'],
  },
  {
    name: 'config: "__proto__" key',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "simclr", "loss": { "__proto__": { "temperature": 2 } } }'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['/loss/__proto__'],
  },
  {
    name: 'config: "constructor" key',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "simclr", "constructor": { "x": 1 } }'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['constructor'],
  },
  {
    name: 'config: plugins names a missing module',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "simclr", "plugins": ["./missing.mjs"] }'),
    args: ['train', 'c.json', ...TINY],
    expect: 'config',
    says: ['missing.mjs', '/plugins/0'],
    absent: 'runs',
  },
  {
    name: 'config: a loss of null',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "simclr", "loss": null }'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['/loss'],
  },
  {
    name: 'config: negative weight decay',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "simclr", "optimizer": { "weightDecay": -1 } }'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['/optimizer/weightDecay'],
  },
  {
    name: 'config: string where an object is expected (encoder)',
    category: 'config file',
    setup: (c) => void c.file('c.json', '{ "extends": "simclr", "encoder": "resnet" }'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['/encoder'],
  },
  {
    name: 'config: a top-level JSON string',
    category: 'config file',
    setup: (c) => void c.file('c.json', '"simclr"'),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['c.json'],
  },
  {
    name: 'config: not UTF-8 (UTF-16 with a BOM)',
    category: 'config file',
    setup: (c) => void c.file('c.json', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{ "extends": "simclr" }', 'utf16le')])),
    args: ['validate', 'c.json'],
    expect: 'config',
    says: ['c.json'],
  },

  // --set override
  {
    name: '--set: number option given a word',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'loss.temperature=abc'],
    expect: 'config',
    says: ['/loss/temperature', 'abc'],
  },
  {
    name: '--set: option name typo',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'loss.temprature=0.2'],
    expect: 'config',
    says: ['temprature', "'temperature'"],
  },
  {
    name: '--set: no "="',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'loss.temperature'],
    expect: 'config',
    says: ['loss.temperature', /=/],
  },
  { name: '--set: empty key', category: '--set override', args: ['validate', 'simclr', '--set', '=5'], expect: 'config', says: ['=5'] },
  {
    name: '--set: unterminated JSON array',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'encoder.widths=[16,32'],
    expect: 'config',
    says: ['encoder.widths'],
  },
  {
    name: '--set: negative batch size',
    category: '--set override',
    args: train('simclr', '--set', 'train.batchSize=-32'),
    expect: 'config',
    says: ['/train/batchSize', '--set'],
    absent: 'runs',
  },
  {
    name: '--set: batch size 0',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'train.batchSize=0'],
    expect: 'config',
    says: ['/train/batchSize'],
  },
  {
    name: '--set: fractional epochs',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'train.epochs=1.5'],
    expect: 'config',
    says: ['/train/epochs'],
  },
  { name: '--set: empty value', category: '--set override', args: ['validate', 'simclr', '--set', 'train.epochs='], expect: 'config', says: ['train.epochs'] },
  {
    name: '--set: resnet depth 19 (enum)',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'encoder={"type":"resnet","depth":19}'],
    expect: 'config',
    says: ['/encoder/depth', '18, 34, 50'],
  },
  {
    name: '--set: colorization mode enum',
    category: '--set override',
    args: ['validate', 'colorization', '--set', 'loss.mode=bins'],
    expect: 'config',
    says: ['/loss/mode', 'allowed'],
  },
  {
    name: '--set: unknown head type',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'head.type=mpl'],
    expect: 'config',
    says: ['/head', "'mlp'"],
  },
  {
    name: '--set: extends',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'extends=moco-v2'],
    expect: 'config',
    says: ["cannot change 'extends'"],
  },
  {
    name: '--set: plugins',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'plugins=["./x.mjs"]'],
    expect: 'config',
    says: ["cannot change 'plugins'", '--plugin'],
  },
  {
    name: '--set: __proto__ path',
    category: '--set override',
    args: ['validate', 'simclr', '--set', '__proto__.polluted=1'],
    expect: 'config',
    says: ['__proto__'],
  },
  {
    name: '--set: schedule on a non-schedulable option',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'schedules={"head.outDim":{"to":1,"schedule":{"type":"cosine"}}}'],
    expect: 'config',
    says: ['head.outDim', /schedulable/],
  },
  {
    name: '--set: schedule on a slot that does not exist',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'schedules={"target.momentum":{"to":1,"schedule":{"type":"cosine"}}}'],
    expect: 'config',
    says: ['target.momentum'],
  },
  {
    name: '--set: predictor with target none',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'predictor={"type":"mlp"}', '--set', 'target={"type":"none"}'],
    expect: 'config',
    says: ['predictor', 'target'],
  },
  {
    name: '--set: mask-patches with encoder small-cnn',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'augmenter={"type":"mask-patches"}'],
    expect: 'config',
    says: ['mask-patches', 'small-cnn'],
  },
  {
    name: '--set: mae with encoder small-cnn',
    category: '--set override',
    args: train('mae', '--set', 'encoder={"type":"small-cnn"}'),
    expect: 'config',
    says: ['small-cnn'],
    absent: 'runs',
  },
  {
    name: '--set: vit patch size 5 on 28 px images',
    category: '--set override',
    args: train('moco-v3-vit', '--set', 'encoder.patchSize=5'),
    expect: 'config',
    says: ['patch size 5', '28'],
    absent: 'runs',
  },
  {
    name: '--set: mae patch size 5 (encoder and masker)',
    category: '--set override',
    args: train('mae', '--set', 'encoder.patchSize=5', '--set', 'augmenter.patchSize=5'),
    expect: 'config',
    says: ['patch size 5'],
    absent: 'runs',
  },
  {
    name: '--set: mae masker patch size differs from the encoder',
    category: '--set override',
    args: train('mae', '--set', 'augmenter.patchSize=7'),
    expect: 'config or plugin',
    says: ['patchSize', "loss 'mae'"],
    absent: 'runs',
  },
  {
    name: '--set: vit heads not dividing the width',
    category: '--set override',
    args: train('moco-v3-vit', '--set', 'encoder.heads=5'),
    expect: 'config',
    says: ['heads', '192'],
    absent: 'runs',
  },
  {
    name: '--set: multi-crop local crop larger than the image',
    category: '--set override',
    args: train('swav', '--set', 'augmenter.crops=[{"count":2,"scale":[0.4,1]},{"count":2,"size":40,"scale":[0.05,0.4]}]'),
    expect: 'config',
    says: ['size', '28'],
    absent: 'runs',
  },
  {
    name: '--set: dino globalViews more than the global crops',
    category: '--set override',
    args: train('dino', '--set', 'loss.globalViews=5'),
    expect: 'config',
    says: ['globalViews'],
    absent: 'runs',
  },
  {
    name: '--set: dino with a small-cnn and mask-patches',
    category: '--set override',
    args: ['validate', 'dino', '--set', 'encoder={"type":"small-cnn"}', '--set', 'augmenter={"type":"mask-patches"}'],
    expect: 'config',
    says: ['small-cnn'],
  },
  {
    name: '--set: knn k 0',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'eval.final=[{"type":"knn","k":0}]'],
    expect: 'config',
    says: ['/eval/final/0/k'],
  },
  {
    name: '--set: negative trainLimit',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'data.trainLimit=-5'],
    expect: 'config',
    says: ['/data/trainLimit'],
  },
  {
    name: '--set: unknown dataset type',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'data.type=cifar'],
    expect: 'config',
    says: ['/data', 'image-folder'],
  },
  {
    name: '--set: negative learning rate',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'optimizer.lr=-0.1'],
    expect: 'config',
    says: ['/optimizer/lr'],
  },
  {
    name: '--set: temperature 0',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'loss.temperature=0'],
    expect: 'config',
    says: ['/loss/temperature'],
  },
  {
    name: '--set: queue size 0 (moco-v2)',
    category: '--set override',
    args: ['validate', 'moco-v2', '--set', 'negatives.size=0'],
    expect: 'config',
    says: ['/negatives/size'],
  },
  {
    name: '--set: 100000 views',
    category: '--set override',
    args: train('simclr', '--set', 'augmenter.views=100000'),
    expect: 'config or environment',
    says: ['views per image', 'train.batchSize'],
    absent: 'runs',
  },
  {
    name: '--set: swav loss on a head without scores',
    category: '--set override',
    args: train('simclr', '--set', 'loss={"type":"swav"}'),
    expect: 'config',
    says: ['scores'],
    absent: 'runs',
  },
  {
    name: '--set: cross-entropy without labels from the augmenter',
    category: '--set override',
    args: train('simclr', '--set', 'loss={"type":"cross-entropy"}'),
    expect: 'config or plugin',
    says: ['labels', "loss 'cross-entropy'"],
    absent: 'runs',
  },
  {
    name: '--set: a paramGroups glob that matches nothing',
    category: '--set override',
    args: trainSyn('simclr', '--set', 'paramGroups=[{"match":"encoder/nothing*","lrScale":0}]'),
    expect: 'config',
    says: ['/paramGroups/0', 'matches no'],
    absent: 'runs',
  },
  {
    name: '--set: maxSteps 0',
    category: '--set override',
    args: ['validate', 'simclr', '--set', 'train.maxSteps=0'],
    expect: 'config',
    says: ['/train/maxSteps'],
  },
  {
    name: '--set: batch size larger than the data',
    category: '--set override',
    args: trainSyn('simclr', '--set', 'train.batchSize=4096'),
    expect: 'config or data',
    says: ['batchSize', '128'],
    absent: 'runs',
  },

  // plugin authoring
  {
    name: 'plugin: module throws on import',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.mjs', "const x = 1;\nthrow new Error('setup failed');\n"),
    args: train('simclr', '--plugin', './p.mjs'),
    expect: 'plugin',
    says: ['p.mjs', 'setup failed', 'p.mjs:2'],
    absent: 'runs',
  },
  {
    name: 'plugin: module with a syntax error',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.mjs', 'export default {\n  kind: "loss",,\n};\n'),
    args: train('simclr', '--plugin', './p.mjs'),
    expect: 'plugin',
    says: ['p.mjs'],
  },
  {
    name: 'plugin: module imports a package that is not installed',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.mjs', "import 'left-pad-nowhere';\nexport default {};\n"),
    args: ['validate', 'simclr', '--plugin', './p.mjs', '--load-plugins'],
    expect: 'plugin',
    says: ['p.mjs', 'left-pad-nowhere'],
  },
  {
    name: 'plugin: module exports no plugin',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.mjs', 'export const x = 1;\n'),
    args: train('simclr', '--plugin', './p.mjs'),
    expect: 'config',
    says: ['p.mjs', 'exports no plugin'],
  },
  {
    name: 'plugin: unknown kind',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.mjs', pluginModule('augmentor', 'x', '() => ({})')),
    args: ['plugins', '--plugin', './p.mjs'],
    expect: 'config',
    says: ["'augmentor'", 'augmenter', 'p.mjs'],
  },
  {
    name: 'plugin: name taken by a built-in',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.mjs', lossPlugin('info-nce', '() => tf.scalar(0)')),
    args: ['plugins', '--plugin', './p.mjs'],
    expect: 'config',
    says: ['info-nce', 'p.mjs'],
  },
  {
    name: 'plugin: options is not a schema',
    category: 'plugin authoring',
    setup: (c) =>
      void c.file('p.mjs', `${IMPORT}export default definePlugin({ kind: 'loss', name: 'x', description: 'x', options: 5, create: () => ({}) });\n`),
    args: ['plugins', '--plugin', './p.mjs'],
    expect: 'config',
    says: ['p.mjs', 'options'],
  },
  {
    name: 'plugin: no name',
    category: 'plugin authoring',
    setup: (c) =>
      void c.file('p.mjs', `${IMPORT}export default definePlugin({ kind: 'loss', description: 'x', options: Type.Object({}), create: () => ({}) });\n`),
    args: ['plugins', '--plugin', './p.mjs'],
    expect: 'config',
    says: ['p.mjs', 'name'],
  },
  {
    name: 'plugin: create throws',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.mjs', pluginModule('loss', 'boom', "() => { throw new Error('bad options'); }")),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'loss={"type":"boom"}'),
    expect: 'config or plugin',
    says: ["loss 'boom'", '/loss', 'bad options'],
    absent: 'runs',
  },
  {
    name: 'plugin: create returns nothing',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.mjs', pluginModule('loss', 'empty', '() => undefined')),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'loss={"type":"empty"}'),
    expect: 'plugin',
    says: ["loss 'empty'"],
    absent: 'runs',
  },
  {
    name: 'plugin: loss compute throws',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.mjs', lossPlugin('throws', "() => { throw new RangeError('index 9 out of range'); }")),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'loss={"type":"throws"}'),
    expect: 'plugin',
    says: ["loss 'throws'", 'index 9 out of range'],
    absent: 'runs',
  },
  {
    name: 'plugin: loss returns NaN',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.mjs', lossPlugin('nan', '({ online }) => tf.mul(tf.sum(online[0].z), NaN)')),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'loss={"type":"nan"}'),
    expect: 'training',
    says: ['NaN', 'nan', '/loss'],
    absent: 'runs',
  },
  {
    name: 'plugin: loss returns a vector, not a scalar',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.mjs', lossPlugin('vec', '({ online }) => tf.sum(online[0].z, 1)')),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'loss={"type":"vec"}'),
    expect: 'plugin',
    says: ["loss 'vec'", 'scalar'],
    absent: 'runs',
  },
  {
    name: 'plugin: loss returns a number',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.mjs', lossPlugin('num', '() => 1.5')),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'loss={"type":"num"}'),
    expect: 'plugin',
    says: ["loss 'num'"],
    absent: 'runs',
  },
  {
    name: 'plugin: loss reads an output nobody produces',
    category: 'plugin authoring',
    setup: (c) =>
      void c.file(
        'p.mjs',
        `${IMPORT}import { readOutputs } from 'selfsup';\n` +
          lossPlugin('reads-q', "({ online }) => tf.sum(readOutputs(online, 'q', 'online')[0])").replace(IMPORT, ''),
      ),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'loss={"type":"reads-q"}'),
    expect: 'plugin',
    says: ['online.q', 'z'],
    absent: 'runs',
  },
  {
    name: 'plugin: loss viewsRead names view 5 of 2',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.mjs', lossPlugin('v5', '({ online }) => tf.mean(online[0].z)', 'viewsRead: () => ({ online: [5], target: [] }), ')),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'loss={"type":"v5"}'),
    expect: 'plugin',
    says: ["loss 'v5'", '5'],
    absent: 'runs',
  },
  {
    name: 'plugin: loss afterStep throws',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.mjs', lossPlugin('after', '({ online }) => tf.mean(online[0].z)', "afterStep: () => { throw new Error('after failed'); }, ")),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'loss={"type":"after"}'),
    expect: 'plugin',
    says: ["loss 'after'", 'after failed'],
    absent: 'runs',
  },
  {
    name: 'plugin: augmenter returns no views',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.mjs', pluginModule('augmenter', 'none', '() => ({ apply: (x) => ({ views: [] }) })')),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'augmenter={"type":"none"}'),
    expect: 'plugin',
    says: ["augmenter 'none'", 'view'],
    absent: 'runs',
  },
  {
    name: 'plugin: augmenter returns views of another batch size',
    category: 'plugin authoring',
    setup: (c) =>
      void c.file('p.mjs', pluginModule('augmenter', 'half', '() => ({ apply: (x) => ({ views: [tf.slice(x, 0, Math.floor(x.shape[0] / 2)), x] }) })')),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'augmenter={"type":"half"}'),
    expect: 'plugin',
    says: ["augmenter 'half'"],
    absent: 'runs',
  },
  {
    name: 'plugin: augmenter returns rank-3 views',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.mjs', pluginModule('augmenter', 'flat', '() => ({ apply: (x) => ({ views: [tf.squeeze(x, [3]), tf.squeeze(x, [3])] }) })')),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'augmenter={"type":"flat"}'),
    expect: 'plugin',
    says: ["augmenter 'flat'"],
    absent: 'runs',
  },
  {
    name: 'plugin: encoder returns h of rank 3',
    category: 'plugin authoring',
    setup: (c) =>
      void c.file(
        'p.mjs',
        pluginModule(
          'encoder',
          'rank3',
          "() => ({ params: new ParamStore('rank3'), dim: 4, forward: (x) => ({ h: tf.ones([x.shape[0], 2, 4]), map: tf.ones([x.shape[0], 2, 2, 4]) }) })",
        ),
      ),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'encoder={"type":"rank3"}'),
    expect: 'plugin',
    says: ["encoder 'rank3'", 'h'],
    absent: 'runs',
  },
  {
    name: 'plugin: encoder h wider than its dim',
    category: 'plugin authoring',
    setup: (c) =>
      void c.file(
        'p.mjs',
        pluginModule(
          'encoder',
          'wide',
          "() => ({ params: new ParamStore('wide'), dim: 3, forward: (x) => ({ h: tf.ones([x.shape[0], 5]), map: tf.ones([x.shape[0], 2, 2, 5]) }) })",
        ),
      ),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'encoder={"type":"wide"}'),
    expect: 'plugin',
    says: ["encoder 'wide'", 'dim'],
    absent: 'runs',
  },
  {
    name: 'plugin: encoder forward throws',
    category: 'plugin authoring',
    setup: (c) =>
      void c.file(
        'p.mjs',
        pluginModule('encoder', 'crash', "() => ({ params: new ParamStore('crash'), dim: 3, forward: () => { throw new Error('kernel missing'); } })"),
      ),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'encoder={"type":"crash"}'),
    expect: 'plugin',
    says: ["encoder 'crash'", 'kernel missing'],
    absent: 'runs',
  },
  {
    name: 'plugin: head forward throws',
    category: 'plugin authoring',
    setup: (c) =>
      void c.file(
        'p.mjs',
        pluginModule('head', 'crash', "() => ({ params: new ParamStore('crash'), dim: 3, forward: () => { throw new Error('shape mismatch'); } })"),
      ),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'head={"type":"crash"}'),
    expect: 'plugin',
    says: ["head 'crash'", '/head', 'shape mismatch'],
    absent: 'runs',
  },
  {
    name: 'plugin: an unknown option of a loaded plugin',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.mjs', lossPlugin('mine', '({ online }) => tf.mean(online[0].z)')),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'loss={"type":"mine","tau":1}'),
    expect: 'config',
    says: ['/loss/tau'],
    absent: 'runs',
  },
  {
    name: 'plugin: --plugin names a missing file',
    category: 'plugin authoring',
    args: train('simclr', '--plugin', './nope.mjs'),
    expect: 'config',
    says: ['nope.mjs'],
  },
  {
    name: 'plugin: a package that is not installed',
    category: 'plugin authoring',
    args: ['plugins', '--plugin', 'selfsup-nothing'],
    expect: 'config',
    says: ['selfsup-nothing', 'npm install'],
  },
  {
    name: 'plugin: --plugin names a JSON file',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.json', '{ "kind": "loss" }'),
    args: ['plugins', '--plugin', './p.json'],
    expect: 'plugin',
    says: ['p.json'],
  },
  {
    name: 'plugin: validate --load-plugins of a throwing module',
    category: 'plugin authoring',
    setup: (c) => {
      c.file('p.mjs', "throw new Error('no licence key');\n");
      c.file('c.json', '{ "extends": "simclr", "plugins": ["./p.mjs"] }');
    },
    args: ['validate', 'c.json', '--load-plugins'],
    expect: 'plugin',
    says: ['p.mjs', 'no licence key'],
  },
  {
    name: 'plugin: validate without --load-plugins runs no module code',
    category: 'plugin authoring',
    setup: (c) => {
      c.file('p.mjs', "import fs from 'node:fs'; fs.writeFileSync('ran', 'x');\nthrow new Error('ran');\n");
      c.file('c.json', '{ "extends": "simclr", "plugins": ["./p.mjs"] }');
    },
    args: ['validate', 'c.json'],
    expect: 'ok',
    says: ['p.mjs'],
    absent: 'ran',
  },
  {
    name: 'plugin: --verbose shows the plugin stack',
    category: 'plugin authoring',
    setup: (c) => void c.file('p.mjs', lossPlugin('deep', "() => { throw new Error('deep failure'); }")),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'loss={"type":"deep"}', '--verbose'),
    expect: 'plugin',
    says: ["loss 'deep'", /p\.mjs:\d+/],
    absent: 'runs',
  },
  {
    name: 'plugin: target attach() throws',
    category: 'plugin authoring',
    setup: (c) =>
      void c.file('p.mjs', pluginModule('target', 'broken', "() => ({ attach: async () => { throw new Error('no memory'); }, outputs: () => undefined })")),
    args: train('simclr', '--plugin', './p.mjs', '--set', 'target={"type":"broken"}'),
    expect: 'plugin',
    says: ["target 'broken'", 'no memory'],
    absent: 'runs',
  },

  // data
  {
    name: 'data: fashion-mnist dir missing',
    category: 'data',
    args: train('simclr', '--set', 'data={"type":"fashion-mnist","dir":"./nope"}'),
    expect: 'config',
    says: ['nope', '/data/dir'],
    absent: 'runs',
  },
  {
    name: 'data: fashion-mnist dir without the files',
    category: 'data',
    setup: (c) => void c.file('fm/readme.txt', 'x'),
    args: ['train', '--preset', 'simclr', ...FM],
    expect: 'data',
    says: [FMNIST[0]],
    absent: 'runs',
  },
  {
    name: 'data: fashion-mnist .gz that is not gzip',
    category: 'data',
    setup: (c) => fmnist(c, 8, { [FMNIST[0]]: Buffer.from('not gzip at all') }),
    args: ['train', '--preset', 'simclr', ...FM],
    expect: 'data',
    says: [FMNIST[0]],
    absent: 'runs',
  },
  {
    name: 'data: fashion-mnist truncated images',
    category: 'data',
    setup: (c) => fmnist(c, 8, { [FMNIST[0]]: idx(0x803, [8, 28, 28], Buffer.alloc(100)) }),
    args: ['train', '--preset', 'simclr', ...FM],
    expect: 'data',
    says: [FMNIST[0]],
    absent: 'runs',
  },
  {
    name: 'data: fashion-mnist wrong magic number',
    category: 'data',
    setup: (c) => fmnist(c, 8, { [FMNIST[1]]: idx(0x803, [8], Buffer.alloc(8)) }),
    args: ['train', '--preset', 'simclr', ...FM],
    expect: 'data',
    says: [FMNIST[1]],
    absent: 'runs',
  },
  {
    name: 'data: fashion-mnist label count differs from images',
    category: 'data',
    setup: (c) => fmnist(c, 8, { [FMNIST[1]]: idx(0x801, [5], Buffer.alloc(5, 1)) }),
    args: ['train', '--preset', 'simclr', ...FM],
    expect: 'data',
    says: [FMNIST[1], '5 labels'],
    absent: 'runs',
  },
  {
    name: 'data: fashion-mnist label 12 (10 classes)',
    category: 'data',
    setup: (c) => fmnist(c, 8, { [FMNIST[1]]: idx(0x801, [8], Buffer.alloc(8, 12)) }),
    args: ['train', '--preset', 'simclr', ...FM],
    expect: 'data',
    says: [FMNIST[1], '12'],
    absent: 'runs',
  },
  {
    name: 'data: image-folder root missing',
    category: 'data',
    args: ['train', '--preset', 'simclr', ...IMG()],
    expect: 'config',
    says: ['imgs', '/data/root'],
    absent: 'runs',
  },
  {
    name: 'data: image-folder root is a file',
    category: 'data',
    setup: (c) => void c.file('imgs', 'x'),
    args: ['train', '--preset', 'simclr', ...IMG()],
    expect: 'config',
    says: ['imgs'],
    absent: 'runs',
  },
  {
    name: 'data: image-folder without a train folder',
    category: 'data',
    setup: (c) => imageFolder(c, { cat: 2 }, 'test'),
    args: ['train', '--preset', 'simclr', ...IMG()],
    expect: 'data',
    says: ['train'],
    absent: 'runs',
  },
  {
    name: 'data: image-folder with an empty class folder',
    category: 'data',
    setup: (c) => {
      imageFolder(c, { cat: 2 });
      fs.mkdirSync(path.join(c.dir, 'imgs/train/dog'));
    },
    args: ['train', '--preset', 'simclr', ...IMG(',"test":""')],
    expect: 'data',
    says: ['dog', 'holds no image'],
    absent: 'runs',
  },
  {
    name: 'data: image-folder with no class folders',
    category: 'data',
    setup: (c) => void fs.mkdirSync(path.join(c.dir, 'imgs/train'), { recursive: true }),
    args: ['train', '--preset', 'simclr', ...IMG(',"test":""')],
    expect: 'data',
    says: ['train'],
    absent: 'runs',
  },
  {
    name: 'data: image-folder with a corrupt PNG',
    category: 'data',
    setup: (c) => {
      imageFolder(c, { cat: 2, dog: 2 });
      c.file('imgs/train/dog/bad.png', 'not a png');
    },
    args: ['train', '--preset', 'simclr', ...IMG(',"test":""')],
    expect: 'data',
    says: ['bad.png'],
    absent: 'runs',
  },
  {
    name: 'data: image-folder with a zero-byte JPEG',
    category: 'data',
    setup: (c) => {
      imageFolder(c, { cat: 2, dog: 2 });
      c.file('imgs/train/cat/empty.jpg', '');
    },
    args: ['train', '--preset', 'simclr', ...IMG(',"test":""')],
    expect: 'data',
    says: ['empty.jpg'],
    absent: 'runs',
  },
  {
    name: 'data: image-folder test classes differ from train',
    category: 'data',
    setup: (c) => {
      imageFolder(c, { cat: 2, dog: 2 });
      imageFolder(c, { cat: 1, bird: 1 }, 'test');
    },
    args: ['train', '--preset', 'simclr', ...IMG()],
    expect: 'data',
    says: ['bird'],
    absent: 'runs',
  },
  {
    name: 'data: image-folder images of different sizes without size',
    category: 'data',
    setup: async (c) => {
      imageFolder(c, { cat: 2, dog: 1 });
      c.file(
        'imgs/train/dog/big.png',
        await sharp({ create: { width: 12, height: 12, channels: 3, background: { r: 1, g: 2, b: 3 } } })
          .png()
          .toBuffer(),
      );
    },
    args: ['train', '--preset', 'simclr', '--set', 'data={"type":"image-folder","root":"imgs","test":""}', '--set', 'train.batchSize=2'],
    expect: 'data',
    says: ['big.png', /size/],
    absent: 'runs',
  },
  {
    name: 'data: synthetic with 1 class',
    category: 'data',
    args: ['validate', 'simclr', '--set', 'data={"type":"synthetic","classes":1}'],
    expect: 'config',
    says: ['/data/classes'],
  },
  {
    name: 'data: synthetic with 0 training images',
    category: 'data',
    args: ['validate', 'simclr', '--set', 'data={"type":"synthetic","train":0}'],
    expect: 'config',
    says: ['/data/train'],
  },
  { name: 'data: colorization on grey images', category: 'data', args: train('colorization'), expect: 'config', says: [/colou?r|channels/], absent: 'runs' },
  {
    name: 'data: kNN evaluation without a test split',
    category: 'data',
    setup: (c) => imageFolder(c, { cat: 4, dog: 4 }),
    args: ['train', '--preset', 'simclr', ...IMG(',"test":""'), '--set', 'train.epochs=1', '--set', 'eval.baseline=false'],
    expect: 'ok',
    says: ['no test split: evaluation skipped'],
  },

  // checkpoint/resume
  {
    name: 'resume: truncated weights file',
    category: 'checkpoint/resume',
    setup: (c) => truncate(c.run(), 'weights-2.bin', 1000),
    args: ['train', '--resume', 'run', '--set', 'train.maxSteps=100'],
    previous: 'run',
    expect: 'data',
    says: ['weights-2.bin', 'truncated'],
  },
  {
    name: 'resume: truncated checkpoint.json',
    category: 'checkpoint/resume',
    setup: (c) => truncate(c.run(), 'checkpoint.json', 200),
    args: ['train', '--resume', 'run', '--set', 'train.maxSteps=100'],
    previous: 'run',
    expect: 'data',
    says: ['checkpoint.json', 'damaged'],
  },
  {
    name: 'resume: weights file deleted',
    category: 'checkpoint/resume',
    setup: (c) => fs.rmSync(path.join(c.run(), 'weights-2.bin')),
    args: ['train', '--resume', 'run', '--set', 'train.maxSteps=100'],
    previous: 'run',
    expect: 'data',
    says: ['weights-2.bin', 'missing'],
  },
  {
    name: 'resume: a flipped byte in the weights',
    category: 'checkpoint/resume',
    setup: (c) => flip(c.run(), 'weights-2.bin', 101),
    args: ['train', '--resume', 'run', '--set', 'train.maxSteps=100'],
    previous: 'run',
    expect: 'data',
    says: ['weights-2.bin', 'SHA-256'],
  },
  {
    name: 'resume: empty checkpoint.json',
    category: 'checkpoint/resume',
    setup: (c) => truncate(c.run(), 'checkpoint.json', 0),
    args: ['train', '--resume', 'run', '--set', 'train.maxSteps=100'],
    previous: 'run',
    expect: 'data',
    says: ['checkpoint.json'],
  },
  {
    name: 'resume: checkpoint.json with step "x"',
    category: 'checkpoint/resume',
    setup: (c) => editMeta(c.run(), (m) => (m.step = 'x')),
    args: ['train', '--resume', 'run', '--set', 'train.maxSteps=100'],
    previous: 'run',
    expect: 'data',
    says: ['checkpoint.json', 'step'],
  },
  {
    name: 'resume: checkpoint.json without a config',
    category: 'checkpoint/resume',
    setup: (c) => editMeta(c.run(), (m) => delete m.config),
    args: ['train', '--resume', 'run', '--set', 'train.maxSteps=100'],
    previous: 'run',
    expect: 'data',
    says: ['checkpoint.json', 'config'],
  },
  {
    name: 'resume: the weight file is a directory',
    category: 'checkpoint/resume',
    setup: (c) => {
      const r = c.run();
      fs.rmSync(path.join(r, 'weights-2.bin'));
      fs.mkdirSync(path.join(r, 'weights-2.bin'));
    },
    args: ['train', '--resume', 'run', '--set', 'train.maxSteps=100'],
    previous: 'run',
    expect: 'data',
    says: ['weights-2.bin'],
  },
  {
    name: 'resume: an empty directory (not a run)',
    category: 'checkpoint/resume',
    setup: (c) => void fs.mkdirSync(path.join(c.dir, 'run')),
    args: ['train', '--resume', 'run'],
    expect: 'config or data',
    says: ['no checkpoint in run'],
  },
  {
    name: 'resume: a directory that does not exist',
    category: 'checkpoint/resume',
    args: ['train', '--resume', 'nowhere'],
    expect: 'config or data',
    says: ['nowhere'],
    absent: 'nowhere',
  },
  {
    name: 'resume: a file',
    category: 'checkpoint/resume',
    setup: (c) => void c.file('run.txt', 'x'),
    args: ['train', '--resume', 'run.txt'],
    expect: 'config or data',
    says: ['run.txt'],
  },
  {
    name: 'resume: a directory of other files',
    category: 'checkpoint/resume',
    setup: (c) => void c.file('photos/a.jpg', 'x'),
    args: ['train', '--resume', 'photos'],
    previous: 'photos',
    expect: 'config or data',
    says: ['photos', 'no checkpoint'],
  },
  {
    name: 'resume: a run already at its budget',
    category: 'checkpoint/resume',
    setup: (c) => void c.run(),
    args: ['train', '--resume', 'run'],
    previous: 'run',
    expect: 'config',
    says: ['already at step 2', 'train.maxSteps'],
  },
  {
    name: 'resume: with --preset moco-v1',
    category: 'checkpoint/resume',
    setup: (c) => void c.run(),
    args: ['train', '--resume', 'run', '--preset', 'moco-v1', '--set', 'train.maxSteps=100'],
    previous: 'run',
    expect: 'config',
    says: ['moco-v1', '--resume'],
  },
  {
    name: 'resume: with --out elsewhere continues there, the run kept',
    category: 'checkpoint/resume',
    setup: (c) => void c.run(),
    args: ['train', '--resume', 'run', '--out', 'other', '--set', 'train.maxSteps=100'],
    previous: 'run',
    expect: 'ok',
    check: (c) => (fs.existsSync(path.join(c.dir, 'other/checkpoint.json')) ? undefined : 'no checkpoint in other'),
  },
  {
    name: 'resume: --set changes the encoder widths',
    category: 'checkpoint/resume',
    setup: (c) => void c.run(),
    args: ['train', '--resume', 'run', '--set', 'train.maxSteps=100', '--set', 'encoder.widths=[8,16]'],
    previous: 'run',
    expect: 'config',
    says: ['encoder.widths'],
  },
  {
    name: 'resume: a run whose plugin module is gone',
    category: 'checkpoint/resume',
    setup: (c) => editMeta(c.run(), (m) => ((m.config as Record<string, unknown>).plugins = [path.join(c.dir, 'gone.mjs')])),
    args: ['train', '--resume', 'run', '--set', 'train.maxSteps=100'],
    previous: 'run',
    expect: 'config',
    says: ['gone.mjs'],
  },
  {
    name: 'resume: a run in use by a live process',
    category: 'checkpoint/resume',
    setup: (c) => void fs.writeFileSync(path.join(c.run(), 'run.lock'), String(process.pid)),
    args: ['train', '--resume', 'run', '--set', 'train.maxSteps=100'],
    previous: 'run',
    expect: 'config or environment',
    says: ['another training run', String(process.pid)],
  },
  {
    name: 'eval: truncated weights file',
    category: 'checkpoint/resume',
    setup: (c) => truncate(c.run(), 'weights-2.bin', 1000),
    args: ['eval', '--checkpoint', 'run'],
    previous: 'run',
    expect: 'data',
    says: ['weights-2.bin'],
  },
  {
    name: 'eval: a flipped byte in the weights',
    category: 'checkpoint/resume',
    setup: (c) => flip(c.run(), 'weights-2.bin', 33),
    args: ['eval', '--checkpoint', 'run'],
    previous: 'run',
    expect: 'data',
    says: ['weights-2.bin', 'SHA-256'],
  },
  {
    name: 'eval: not a run directory',
    category: 'checkpoint/resume',
    setup: (c) => void c.file('d/x.txt', 'x'),
    args: ['eval', '--checkpoint', 'd'],
    expect: 'config or data',
    says: ['checkpoint.json'],
  },
  {
    name: 'eval: a directory that does not exist',
    category: 'checkpoint/resume',
    args: ['eval', '--checkpoint', 'nowhere'],
    expect: 'config or data',
    says: ['nowhere'],
  },
  {
    name: 'eval: checkpoint.json is not JSON',
    category: 'checkpoint/resume',
    setup: (c) => void fs.writeFileSync(path.join(c.run(), 'checkpoint.json'), 'PK\u0003\u0004 zip?'),
    args: ['eval', '--checkpoint', 'run'],
    previous: 'run',
    expect: 'data',
    says: ['checkpoint.json'],
  },

  // run directory
  {
    name: 'out: holds a run',
    category: 'run directory',
    setup: (c) => void c.run(),
    args: train('simclr', '--out', 'run'),
    previous: 'run',
    expect: 'config',
    says: ['already holds a run', '--resume'],
  },
  {
    name: 'out: holds other files',
    category: 'run directory',
    setup: (c) => {
      c.file('mine/notes.txt', 'mine');
      c.file('mine/weights-7.bin', 'mine');
    },
    args: train('simclr', '--out', 'mine'),
    previous: 'mine',
    expect: 'config',
    says: ['not empty', 'notes.txt'],
  },
  { name: 'out: /', category: 'run directory', args: train('simclr', '--out', '/', '--force'), expect: 'config', says: ['refusing to write a run into /'] },
  {
    name: 'out: the home directory',
    category: 'run directory',
    setup: (c) => void fs.mkdirSync(path.join(c.dir, 'home')),
    env: { HOME: 'HOME' },
    args: (c) => train('simclr', '--out', path.join(c.dir, 'home'), '--force'),
    previous: 'home',
    expect: 'config',
    says: ['refusing to write a run into'],
  },
  {
    name: 'out: a file',
    category: 'run directory',
    setup: (c) => void c.file('out.txt', 'mine'),
    args: train('simclr', '--out', 'out.txt'),
    expect: 'config',
    says: ['out.txt', 'not a directory'],
  },
  {
    name: 'out: a live lock',
    category: 'run directory',
    setup: (c) => void c.file('run/run.lock', String(process.pid)),
    args: train('simclr', '--out', 'run'),
    expect: 'config or environment',
    says: ['another training run'],
  },
  {
    name: 'out: a parent that is a file',
    category: 'run directory',
    setup: (c) => void c.file('f.txt', 'x'),
    args: train('simclr', '--out', 'f.txt/run'),
    expect: 'environment',
    says: ['f.txt', 'not a directory'],
  },
  { name: 'out: a name too long', category: 'run directory', args: train('simclr', '--out', 'x'.repeat(300)), expect: 'environment', says: ['too long'] },
  {
    name: 'out: --force over a run keeps the user files',
    category: 'run directory',
    setup: (c) => {
      const r = c.run();
      fs.writeFileSync(path.join(r, 'notes.txt'), 'mine');
    },
    args: train('simclr', '--out', 'run', '--force'),
    expect: 'ok',
    check: (c) => (fs.readFileSync(path.join(c.dir, 'run/notes.txt'), 'utf8') === 'mine' ? undefined : 'notes.txt changed'),
  },
  {
    name: 'out: a config error leaves no directory',
    category: 'run directory',
    args: train('simclr', '--out', 'new', '--set', 'loss.temperature=-1'),
    expect: 'config',
    says: ['/loss/temperature'],
    absent: 'new',
  },
  {
    name: 'out: a dangling symlink',
    category: 'run directory',
    setup: (c) => void fs.symlinkSync(path.join(c.dir, 'gone'), path.join(c.dir, 'link')),
    args: train('simclr', '--out', 'link'),
    expect: 'config',
    says: ['link'],
  },
  {
    name: 'out: a symlink to a run',
    category: 'run directory',
    setup: (c) => {
      c.run();
      fs.symlinkSync(path.join(c.dir, 'run'), path.join(c.dir, 'link'));
    },
    args: train('simclr', '--out', 'link'),
    previous: 'run',
    expect: 'config',
    says: ['already holds a run'],
  },
  {
    name: 'out: a run dir given as --out of eval',
    category: 'run directory',
    setup: (c) => void c.run(),
    args: ['eval', '--checkpoint', 'run', '--out', 'x'],
    previous: 'run',
    expect: 'usage',
    says: ['--out'],
  },

  // environment/disk/permissions
  {
    name: 'env: config file not readable',
    category: 'environment/disk/permissions',
    setup: (c) => NEEDS_CHMOD ?? void fs.chmodSync(c.file('c.json', '{ "extends": "simclr" }'), 0),
    args: ['validate', 'c.json'],
    expect: 'environment',
    says: ['c.json', 'permission denied'],
  },
  {
    name: 'env: --out in a read-only directory',
    category: 'environment/disk/permissions',
    setup: (c) => NEEDS_CHMOD ?? void fs.chmodSync(fs.mkdirSync(path.join(c.dir, 'ro'), { recursive: true })!, 0o500),
    args: train('simclr', '--out', 'ro/run'),
    expect: 'environment',
    says: ['ro', 'permission denied'],
  },
  {
    name: 'env: resume a run in a read-only directory',
    category: 'environment/disk/permissions',
    setup: (c) => NEEDS_CHMOD ?? void fs.chmodSync(c.run(), 0o500),
    args: ['train', '--resume', 'run', '--set', 'train.maxSteps=100'],
    previous: 'run',
    expect: 'environment',
    says: ['run', 'permission denied'],
  },
  {
    name: 'env: --out on a read-only file system',
    category: 'environment/disk/permissions',
    setup: (c) => mountTmpfs(c, 'ro', 'size=1m,ro'),
    cleanup: (c) => unmount(c, 'ro'),
    args: train('simclr', '--out', 'ro/run'),
    expect: 'environment',
    says: ['ro', 'read-only'],
  },
  {
    name: 'env: resume on a file system remounted read-only',
    category: 'environment/disk/permissions',
    setup: (c) => {
      const why = mountTmpfs(c, 'fs', 'size=4m');
      if (why) return why;
      fs.cpSync(BASE, path.join(c.dir, 'fs/run'), { recursive: true });
      spawnSync('mount', ['-o', 'remount,ro', path.join(c.dir, 'fs')]);
    },
    cleanup: (c) => unmount(c, 'fs'),
    args: ['train', '--resume', 'fs/run', '--set', 'train.maxSteps=100'],
    previous: 'fs/run',
    expect: 'environment',
    says: ['fs/run', 'read-only'],
  },
  {
    name: 'env: a full disk at the first checkpoint',
    category: 'environment/disk/permissions',
    setup: (c) => mountTmpfs(c, 'small', 'size=160k'),
    cleanup: (c) => unmount(c, 'small'),
    args: train('simclr', '--out', 'small/run'),
    expect: 'environment',
    says: ['small/run', /space/],
    check: (c) => (tmpLeft(path.join(c.dir, 'small')).length ? `temp files left: ${tmpLeft(path.join(c.dir, 'small'))}` : undefined),
  },
  {
    name: 'env: a full disk on resume keeps the old checkpoint',
    category: 'environment/disk/permissions',
    setup: (c) => {
      const why = mountTmpfs(c, 'small', 'size=3m');
      if (why) return why;
      fs.cpSync(BASE, path.join(c.dir, 'small/run'), { recursive: true });
      const { bavail, bsize } = fs.statfsSync(path.join(c.dir, 'small'));
      c.file('small/filler', Buffer.alloc(Math.max(0, bavail * bsize - 24 * 1024)));
    },
    cleanup: (c) => unmount(c, 'small'),
    args: ['train', '--resume', 'small/run', '--set', 'train.maxSteps=100'],
    previous: 'small/run',
    previousOnly: /^(checkpoint\.json|weights-)/,
    expect: 'environment',
    says: ['small/run', /space/],
  },
  {
    name: 'env: a symlink loop in an image folder',
    category: 'environment/disk/permissions',
    setup: (c) => {
      imageFolder(c, { cat: 2, dog: 2 });
      fs.symlinkSync('loop2', path.join(c.dir, 'imgs/train/loop1'));
      fs.symlinkSync('loop1', path.join(c.dir, 'imgs/train/loop2'));
    },
    args: ['train', '--preset', 'simclr', ...IMG(',"test":""')],
    expect: 'environment',
    says: ['loop'],
    absent: 'runs',
  },
  {
    name: 'env: TMPDIR does not exist',
    category: 'environment/disk/permissions',
    env: { TMPDIR: 'DIR/no-such-tmp' },
    args: train('simclr', '--out', 'run'),
    expect: 'ok',
  },
  {
    name: 'env: SELFSUP_WASM_THREADS=abc',
    category: 'environment/disk/permissions',
    env: { SELFSUP_WASM_THREADS: 'abc' },
    args: train('simclr', '--out', 'run'),
    expect: 'config',
    says: ['SELFSUP_WASM_THREADS', 'abc'],
    absent: 'run',
  },
  {
    name: 'env: --backend tensorflow not installed',
    category: 'environment/disk/permissions',
    args: train('simclr', '--backend', 'tensorflow'),
    expect: 'config or environment',
    says: ['tfjs-node', 'not installed'],
    absent: 'runs',
  },
  {
    name: 'env: --backend webgpu not installed',
    category: 'environment/disk/permissions',
    args: train('simclr', '--backend', 'webgpu'),
    expect: 'config or environment',
    says: ['webgpu', 'not installed'],
    absent: 'runs',
  },
  {
    name: 'env: an image folder with an unreadable image',
    category: 'environment/disk/permissions',
    setup: (c) => {
      if (NEEDS_CHMOD) return NEEDS_CHMOD;
      imageFolder(c, { cat: 2, dog: 2 });
      fs.chmodSync(path.join(c.dir, 'imgs/train/cat/0.png'), 0);
    },
    args: ['train', '--preset', 'simclr', ...IMG(',"test":""')],
    expect: 'environment',
    says: ['0.png', 'permission denied'],
  },
  {
    name: 'env: sweep --out on a read-only file system',
    category: 'environment/disk/permissions',
    setup: (c) => {
      c.file('s.json', sweepSpec({ seeds: [0] }));
      return mountTmpfs(c, 'ro', 'size=1m,ro');
    },
    cleanup: (c) => unmount(c, 'ro'),
    args: ['sweep', 's.json', '--out', 'ro/sw'],
    expect: 'environment',
    says: ['ro', 'read-only'],
  },

  // signals
  {
    name: 'signal: SIGINT during training',
    category: 'signals',
    args: [...trainSyn('simclr', '--out', 'run', '--set', 'train.epochs=20'), ...PROGRESS],
    signal: { signal: 'SIGINT', atStep: 3 },
    expect: 'sigint',
    says: ['interrupted (SIGINT) at step', 'resume with: selfsup train --resume'],
    check: (c) => afterSignal(c, 'run'),
  },
  {
    name: 'signal: SIGTERM during training',
    category: 'signals',
    args: [...trainSyn('simclr', '--out', 'run', '--set', 'train.epochs=20'), ...PROGRESS],
    signal: { signal: 'SIGTERM', atStep: 3 },
    expect: 'sigterm',
    says: ['interrupted (SIGTERM) at step'],
    check: (c) => afterSignal(c, 'run'),
  },
  {
    name: 'signal: two SIGINTs quit at once',
    category: 'signals',
    args: [...trainSyn('simclr', '--out', 'run', '--set', 'train.epochs=20'), ...PROGRESS],
    signal: { signal: 'SIGINT', atStep: 3, twice: true },
    expect: 'sigint',
    check: (c) => (fs.existsSync(path.join(c.dir, 'run/run.lock')) ? 'run.lock left behind' : undefined),
  },
  {
    name: 'signal: SIGINT while resuming leaves a resumable run',
    category: 'signals',
    setup: (c) => void c.run(),
    args: ['train', '--resume', 'run', '--set', 'train.maxSteps=1000', '--set', 'train.epochs=20', ...PROGRESS],
    signal: { signal: 'SIGINT', atStep: 5 },
    expect: 'sigint',
    says: ['interrupted (SIGINT)'],
    check: (c) => afterSignal(c, 'run'),
  },
  {
    name: 'signal: SIGTERM during a sweep',
    category: 'signals',
    setup: (c) => void c.file('s.json', sweepSpec({ set: { ...SWEEP_TINY, 'train.epochs': 20, callbacks: [{ type: 'progress', every: 1 }] }, seeds: [0] })),
    args: ['sweep', 's.json', '--out', 'sw'],
    signal: { signal: 'SIGTERM', atStep: 0, when: /sweep/, delayMs: 4000 },
    expect: 'sigterm',
    check: (c) => (fs.existsSync(path.join(c.dir, 'sw/sweep.db')) ? undefined : 'no sweep.db'),
  },
  {
    name: 'signal: SIGINT in the first step of a new run',
    category: 'signals',
    args: [...trainSyn('simclr', '--out', 'run', '--set', 'train.epochs=20'), ...PROGRESS],
    signal: { signal: 'SIGINT', atStep: 1 },
    expect: 'sigint',
    says: ['interrupted (SIGINT)'],
    check: (c) => afterSignal(c, 'run'),
  },

  // sweep spec
  {
    name: 'sweep: an unknown axis (typo)',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', sweepSpec({ grid: { 'loss.temprature': [0.1, 0.2] } })),
    args: ['sweep', 's.json', '--dry-run'],
    expect: 'config',
    says: ['temprature', "'temperature'"],
  },
  {
    name: 'sweep: an axis on a slot that does not exist',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', sweepSpec({ grid: { 'predictor.outDim': [8, 16] } })),
    args: ['sweep', 's.json', '--dry-run'],
    expect: 'config',
    says: ['predictor'],
  },
  {
    name: 'sweep: bad JSON',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', '{ "extends": "simclr", }'),
    args: ['sweep', 's.json', '--dry-run'],
    expect: 'config',
    says: ['s.json'],
  },
  { name: 'sweep: a spec that does not exist', category: 'sweep spec', args: ['sweep', 'nope.json', '--dry-run'], expect: 'config', says: ['nope.json'] },
  {
    name: 'sweep: an empty value list',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', sweepSpec({ grid: { 'loss.temperature': [] } })),
    args: ['sweep', 's.json', '--dry-run'],
    expect: 'config',
    says: ['loss.temperature'],
  },
  {
    name: 'sweep: an axis that is not a list',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', sweepSpec({ grid: { 'loss.temperature': 0.1 } })),
    args: ['sweep', 's.json', '--dry-run'],
    expect: 'config',
    says: ['loss.temperature'],
  },
  {
    name: 'sweep: zip lists of unequal length',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', sweepSpec({ zip: [{ 'train.batchSize': [32, 64], 'optimizer.lr': [0.1] }] })),
    args: ['sweep', 's.json', '--dry-run'],
    expect: 'config',
    says: ['zip', /length|same/],
  },
  {
    name: 'sweep: logUniform from 0',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', sweepSpec({ random: { n: 2, seed: 0, axes: { 'loss.temperature': { logUniform: [0, 1] } } } })),
    args: ['sweep', 's.json', '--dry-run'],
    expect: 'config',
    says: ['logUniform'],
  },
  {
    name: 'sweep: a random axis with an unknown distribution',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', sweepSpec({ random: { n: 2, seed: 0, axes: { 'loss.temperature': { normal: [0, 1] } } } })),
    args: ['sweep', 's.json', '--dry-run'],
    expect: 'config',
    says: ['loss.temperature'],
  },
  {
    name: 'sweep: fractional seeds',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', sweepSpec({ seeds: [0.5] })),
    args: ['sweep', 's.json', '--dry-run'],
    expect: 'config',
    says: ['seeds'],
  },
  {
    name: 'sweep: extends an unknown preset',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', JSON.stringify({ extends: 'simclrr' })),
    args: ['sweep', 's.json', '--dry-run'],
    expect: 'config',
    says: ['simclrr'],
  },
  {
    name: 'sweep: an invalid trial value',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', sweepSpec({ grid: { 'train.batchSize': [32, -1] } })),
    args: ['sweep', 's.json', '--dry-run'],
    expect: 'config',
    says: ['/train/batchSize', 'trial'],
  },
  {
    name: 'sweep: an unknown metric',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', sweepSpec({ metrics: ['linear_top2'] })),
    args: ['sweep', 's.json', '--dry-run'],
    expect: 'config',
    says: ['linear_top2'],
  },
  {
    name: 'sweep: an unknown top-level key',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', sweepSpec({ grids: {} })),
    args: ['sweep', 's.json', '--dry-run'],
    expect: 'config',
    says: ['grids', "'grid'"],
  },
  {
    name: 'sweep: __proto__ in set',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', '{ "extends": "simclr", "set": { "__proto__.polluted": 1 } }'),
    args: ['sweep', 's.json', '--dry-run'],
    expect: 'config',
    says: ['__proto__'],
  },
  {
    name: 'sweep: --set plugins in set',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', sweepSpec({ set: { ...SWEEP_TINY, plugins: ['./x.mjs'] } })),
    args: ['sweep', 's.json', '--dry-run'],
    expect: 'config',
    says: ['plugins'],
  },
  {
    name: 'sweep: a damaged sweep.db',
    category: 'sweep spec',
    setup: (c) => {
      c.file('s.json', sweepSpec({ seeds: [0] }));
      c.file('sw/sweep.db', 'this is not a database, just text that is long enough to be read as a header..........');
    },
    args: ['sweep', 's.json', '--out', 'sw'],
    previous: 'sw',
    expect: 'data',
    says: ['sweep.db', 'move it aside'],
  },
  {
    name: 'sweep: --workers 0',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', sweepSpec({ seeds: [0] })),
    args: ['sweep', 's.json', '--workers', '0'],
    expect: 'usage',
    says: ['--workers'],
    absent: 'sweeps',
  },
  {
    name: 'sweep: --workers abc',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', sweepSpec({ seeds: [0] })),
    args: ['sweep', 's.json', '--workers', 'abc'],
    expect: 'usage',
    says: ['--workers', 'abc'],
    absent: 'sweeps',
  },
  {
    name: 'sweep: trials that fail give a distinct exit code and a summary',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', sweepSpec({ set: { ...SWEEP_TINY, 'train.epochs': 1, 'optimizer.lr': 1e30, 'loss.temperature': 1e-30 }, seeds: [0] })),
    args: ['sweep', 's.json', '--out', 'sw'],
    expect: 'training',
    says: [/1 (trial )?failed|failed: 1/],
  },
  {
    name: 'sweep: report of a directory without sweep.db',
    category: 'sweep spec',
    setup: (c) => void c.file('d/x.txt', 'x'),
    args: ['report', 'd'],
    expect: 'config or data',
    says: ['sweep.db'],
  },
  { name: 'sweep: report of a missing directory', category: 'sweep spec', args: ['report', 'nowhere'], expect: 'config or data', says: ['nowhere'] },
  {
    name: 'sweep: a grid over extends with a missing preset',
    category: 'sweep spec',
    setup: (c) => void c.file('s.json', sweepSpec({ grid: { extends: ['simclr', 'byoll'] } })),
    args: ['sweep', 's.json', '--dry-run'],
    expect: 'config',
    says: ['byoll', "'byol'"],
  },

  // CLI usage
  { name: 'cli: unknown command (typo)', category: 'CLI usage', args: ['trian'], expect: 'usage', says: ['trian', 'train'] },
  { name: 'cli: unknown option', category: 'CLI usage', args: ['train', '--epochs', '3'], expect: 'usage', says: ['--epochs'], absent: 'runs' },
  { name: 'cli: --set without a value', category: 'CLI usage', args: ['validate', 'simclr', '--set'], expect: 'usage', says: ['--set'] },
  {
    name: 'cli: two positional presets',
    category: 'CLI usage',
    args: ['train', 'simclr', 'byol'],
    expect: 'usage',
    says: ['too many arguments'],
    absent: 'runs',
  },
  {
    name: 'cli: preset both ways, different',
    category: 'CLI usage',
    args: ['train', 'simclr', '--preset', 'byol'],
    expect: 'config',
    says: ['two presets'],
    absent: 'runs',
  },
  { name: 'cli: validate with nothing', category: 'CLI usage', args: ['validate'], expect: 'config', says: ['validate needs'] },
  { name: 'cli: eval without --checkpoint', category: 'CLI usage', args: ['eval'], expect: 'usage', says: ['--checkpoint'] },
  { name: 'cli: sweep without a spec', category: 'CLI usage', args: ['sweep'], expect: 'usage', says: ['spec'] },
  { name: 'cli: --backend nope', category: 'CLI usage', args: train('simclr', '--backend', 'nope'), expect: 'config', says: ['nope', 'wasm'], absent: 'runs' },
  { name: 'cli: --resume without a value', category: 'CLI usage', args: ['train', '--resume'], expect: 'usage', says: ['--resume'] },
  { name: 'cli: report without a directory', category: 'CLI usage', args: ['report'], expect: 'usage', says: ['dir'] },
  { name: 'cli: unknown preset name (typo)', category: 'CLI usage', args: ['train', 'byl'], expect: 'config', says: ["'byl'", "'byol'"], absent: 'runs' },
  { name: 'cli: empty preset name', category: 'CLI usage', args: ['train', '--preset', ''], expect: 'config', says: ['preset'], absent: 'runs' },
  {
    name: 'cli: bench with an unknown case',
    category: 'CLI usage',
    args: ['bench', '--cases', 'simclr-smalcnn'],
    expect: 'config',
    says: ['simclr-smalcnn', 'simclr-smallcnn'],
  },
  {
    name: 'cli: --json with a config error keeps stdout clean',
    category: 'CLI usage',
    args: train('simclr', '--json', '--set', 'loss.temperature=-1'),
    expect: 'config',
    says: ['/loss/temperature'],
    check: (_c, r) => (r.out.trim() === '' || isJsonLine(r.out) ? undefined : `stdout: ${r.out.slice(0, 80)}`),
  },
  { name: 'cli: presets with an unknown option', category: 'CLI usage', args: ['presets', '--all'], expect: 'usage', says: ['--all'] },
  { name: 'cli: --force without --out', category: 'CLI usage', args: train('simclr', '--force'), expect: 'usage', says: ['--force', '--out'], absent: 'runs' },
];

// ---- checks shared by cases ----------------------------------------------------------------------

function truncate(run: string, file: string, bytes: number) {
  const f = path.join(run, file);
  fs.writeFileSync(f, fs.readFileSync(f).subarray(0, bytes));
}
function flip(run: string, file: string, at: number) {
  const f = path.join(run, file);
  const b = fs.readFileSync(f);
  b[at] ^= 0xff;
  fs.writeFileSync(f, b);
}
function editMeta(run: string, edit: (m: Record<string, unknown>) => void) {
  const f = path.join(run, 'checkpoint.json');
  const m = JSON.parse(fs.readFileSync(f, 'utf8'));
  edit(m);
  fs.writeFileSync(f, JSON.stringify(m));
}
const isJsonLine = (s: string) => {
  try {
    JSON.parse(s.trim().split('\n').at(-1) ?? '');
    return true;
  } catch {
    return false;
  }
};
/** after a signal: the checkpoint is readable and names the step the message names; no lock is left */
function afterSignal(c: Ctx, run: string): string | undefined {
  const dir = path.join(c.dir, run);
  if (fs.existsSync(path.join(dir, 'run.lock'))) return 'run.lock left behind';
  if (!fs.existsSync(path.join(dir, 'checkpoint.json'))) return 'no checkpoint written';
  const r = spawnSync(process.execPath, [BIN, 'eval', '--checkpoint', dir, '--set', 'eval.final=[]'], { encoding: 'utf8', cwd: c.dir });
  if (r.status !== 0) return `the checkpoint does not evaluate: exit ${r.status}: ${r.stderr.trim().split('\n')[0]}`;
  return undefined;
}

// ---- runner ---------------------------------------------------------------------------------

const fingerprint = (dir: string): Record<string, string> =>
  fs.existsSync(dir)
    ? Object.fromEntries(
        fs
          .readdirSync(dir, { recursive: true })
          .map(String)
          .sort()
          .map((f) => {
            const p = path.join(dir, f);
            return [f, fs.statSync(p).isDirectory() ? 'dir' : crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')];
          }),
      )
    : {};
const STACK = /^\s+at .+(:\d+:\d+\)?|\(native\)|\(<anonymous>\))$/m;

function runCli(c: Case, ctx: Ctx, args: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  if (!c.signal) {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ctx.dir, env, encoding: 'utf8', timeout: 180_000 });
    return Promise.resolve({ code: r.status, out: r.stdout ?? '', err: (r.stderr ?? '') + (r.error ? `\n[spawn: ${r.error.message}]` : '') });
  }
  const { signal, atStep, twice, when, delayMs = 0 } = c.signal;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ctx.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let sent = false;
    const killer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => {
      err += String(d);
      const m = [...err.matchAll(/step (\d+)\//g)].at(-1);
      if (!sent && (when ? when.test(err) : m && Number(m[1]) >= atStep)) {
        sent = true;
        setTimeout(() => {
          child.kill(signal);
          if (twice) setTimeout(() => child.kill(signal), 30);
        }, delayMs);
      }
    });
    child.on('exit', (code, sig) => {
      clearTimeout(killer);
      resolve({
        code: code ?? (sig ? 128 + (os.constants.signals[sig] ?? 0) : null),
        out,
        err: sent ? err : `${err}\n[the signal was never sent: no step ${atStep} seen]`,
      });
    });
  });
}

interface Outcome {
  c: Case;
  skipped?: string;
  why: string[];
  code?: number | null;
  first?: string;
}

async function runCase(c: Case): Promise<Outcome> {
  const dir = fs.mkdtempSync(path.join(work, 'case-'));
  const tmp = path.join(dir, '.tmp');
  fs.mkdirSync(tmp);
  const ctx: Ctx = {
    dir,
    file(name, content) {
      const p = path.join(dir, name);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content);
      return p;
    },
    run(name = 'run') {
      const p = path.join(dir, name);
      fs.cpSync(BASE, p, { recursive: true });
      return p;
    },
  };
  try {
    const skipped = await c.setup?.(ctx);
    if (typeof skipped === 'string') return { c, skipped, why: [] };
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, SELFSUP_WASM_THREADS: '1' };
    for (const [k, v] of Object.entries(c.env ?? {})) env[k] = v === 'HOME' ? path.join(dir, 'home') : v.replace(/^DIR\//, `${dir}/`);
    const before = c.previous ? fingerprint(path.join(dir, c.previous)) : undefined;
    const args = typeof c.args === 'function' ? c.args(ctx) : c.args;
    const r = await runCli(c, ctx, args, env);
    const text = `${r.err}\n${r.out}`;
    const why: string[] = [];
    const codes: readonly number[] = CODES[c.expect];
    if (r.code === null || !codes.includes(r.code)) why.push(`exit ${r.code}, expected ${codes.join(' or ')} (${c.expect})`);
    for (const s of c.says ?? [])
      if (!(typeof s === 'string' ? text.includes(s) : s.test(text))) why.push(`the message lacks ${typeof s === 'string' ? `'${s}'` : s}`);
    if (/internal error/.test(r.err)) why.push('"internal error"');
    if (!args.includes('--verbose') && STACK.test(r.err)) why.push('a stack trace without --verbose');
    if (before) {
      const after = fingerprint(path.join(dir, c.previous!));
      const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
        (f) => before[f] !== after[f] && f !== 'run.lock' && (!c.previousOnly || c.previousOnly.test(f)),
      );
      if (changed.length) why.push(`the previous run changed: ${changed.join(', ')}`);
    }
    // (an empty runs/ is not counted: the failed run removed its own directory under it)
    const left = c.absent && path.join(dir, c.absent);
    if (left && fs.existsSync(left) && !(c.absent === 'runs' && fs.readdirSync(left).length === 0)) why.push(`${c.absent} was left behind`);
    const wasm = fs.existsSync(tmp) ? fs.readdirSync(tmp).filter((f) => f.startsWith('selfsup-wasm-')) : [];
    if (wasm.length) why.push(`temp directories left: ${wasm.join(', ')}`);
    const extra = c.check?.(ctx, r);
    if (extra) why.push(extra);
    const first = r.err
      .split('\n')
      .find((l) => /error|refus|interrupted|invalid|cannot/i.test(l))
      ?.trim();
    return { c, why, code: r.code, first: first ?? r.err.trim().split('\n').at(-1) };
  } finally {
    c.cleanup?.(ctx);
  }
}

// ---- main -----------------------------------------------------------------------------------------

log(`reference run (simclr, stopped by train.maxSteps=2) in ${work} ...`);
const BASE = path.join(work, 'base-run');
const ref = spawnSync(process.execPath, [BIN, 'train', '--preset', 'simclr', ...TINY, '--set', 'train.maxSteps=2', '--out', BASE], {
  encoding: 'utf8',
  env: { ...process.env, SELFSUP_WASM_THREADS: '1' },
});
if (ref.status !== 0 || !fs.existsSync(path.join(BASE, 'weights-2.bin'))) throw new Error(`the reference run failed: ${ref.stderr}`);
fs.rmSync(path.join(BASE, 'run.lock'), { force: true });

const selected = cases.filter((c) => !a.only || c.name.includes(a.only) || c.category.includes(a.only));
const names = new Set<string>();
for (const c of cases) {
  if (names.has(c.name)) throw new Error(`two cases named '${c.name}'`);
  names.add(c.name);
}
log(`${selected.length} of ${cases.length} cases`);
const outcomes: Outcome[] = [];
for (const [i, c] of selected.entries()) {
  const o = await runCase(c).catch((e) => ({ c, why: [`the case itself failed: ${(e as Error).message}`] }) as Outcome);
  outcomes.push(o);
  const tag = o.skipped ? `skipped (${o.skipped})` : o.why.length ? `POOR: ${o.why.join('; ')}` : 'ok';
  log(`${String(i + 1).padStart(3)} [${c.category}] ${c.name}: ${tag}`);
}

const counted = outcomes.filter((o) => !o.skipped);
const good = counted.filter((o) => o.why.length === 0);
const rows: Array<Array<string | number>> = CATEGORIES.map((cat) => {
  const of = counted.filter((o) => o.c.category === cat);
  const ok = of.filter((o) => o.why.length === 0).length;
  return [cat, of.length, ok, of.length - ok];
}).filter((r) => (r[1] as number) > 0);
rows.push(['**total**', counted.length, good.length, counted.length - good.length]);
const skipped = outcomes.filter((o) => o.skipped);
process.stdout.write(`\n${markdownTable(['category', 'cases', 'handled well', 'poor'], rows)}\n`);
if (skipped.length) process.stdout.write(`\nskipped (not counted): ${skipped.map((o) => `${o.c.name} (${o.skipped})`).join('; ')}\n`);
const poor = counted.filter((o) => o.why.length > 0);
if (poor.length) {
  process.stdout.write('\npoor cases:\n');
  for (const o of poor) process.stdout.write(`- [${o.c.category}] ${o.c.name}: exit ${o.code}, "${o.first ?? ''}" — ${o.why.join('; ')}\n`);
}
process.stdout.write(`\nhandled well: ${good.length} of ${counted.length}\n`);
if (a.json)
  process.stdout.write(
    JSON.stringify({
      cases: counted.length,
      good: good.length,
      skipped: skipped.length,
      poor: poor.map((o) => ({ name: o.c.name, category: o.c.category, code: o.code, first: o.first, why: o.why })),
    }) + '\n',
  );
fs.rmSync(work, { recursive: true, force: true });
if (good.length < 0.97 * counted.length) process.exit(1);
