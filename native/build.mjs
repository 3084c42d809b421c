// Builds selfsup's native addons into native/build/:
// - selfsup_native.node: the native backend's CPU kernels (native/src/*.cc, on oneDNN);
// - selfsup_jpeg.node: image-folder's JPEG decoder (native/src/jpeg/, on libjpeg-turbo's TurboJPEG).
// Run by `npm install` (the package's install script) and by hand (`node native/build.mjs`). It
// never fails the install: an addon that cannot be built (no C++ compiler, no headers of its
// library, no Node headers, another OS) gets its reason written beside it (build/unavailable.txt,
// build/jpeg-unavailable.txt), and selfsup goes on without it and says why: `auto` takes wasm for the
// first, image-folder decodes JPEGs with sharp for the second.
//
// Needs: g++ (or $CXX) with OpenMP, oneDNN 2.x (Debian/Ubuntu: apt-get install libdnnl-dev),
// libjpeg-turbo's TurboJPEG (apt-get install libturbojpeg0-dev), Node's headers (node_api.h:
// Debian's nodejs package ships them, as does the nodejs.org tarball). SELFSUP_NATIVE_BUILD=0 skips
// both. An addon is not rebuilt when its sources are unchanged.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(here, 'src');
const out = path.join(here, 'build');

const ADDONS = [
  {
    name: 'selfsup_native',
    dir: src,
    unavailable: 'unavailable.txt',
    libs: ['-fopenmp', '-ldnnl'],
    missing: (err) => /dnnl\.hpp|ldnnl/.test(err) && 'oneDNN not found (apt-get install libdnnl-dev, then npm run build:native or node native/build.mjs)',
    fallback: 'selfsup will use the wasm backend',
  },
  {
    name: 'selfsup_jpeg',
    dir: path.join(src, 'jpeg'),
    unavailable: 'jpeg-unavailable.txt',
    libs: ['-lturbojpeg'],
    missing: (err) =>
      /turbojpeg/.test(err) && "libjpeg-turbo's TurboJPEG not found (apt-get install libturbojpeg0-dev, then npm run build:native or node native/build.mjs)",
    fallback: 'image-folder will decode JPEGs with sharp',
  },
];

function say(m) {
  process.stderr.write(`selfsup native: ${m}\n`);
}
/** Record why an addon is not built (and remove a stale one). */
function giveUp(addon, reason) {
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, addon.unavailable), reason + '\n');
  fs.rmSync(path.join(out, `${addon.name}.node`), { force: true });
  say(`${addon.name} not built: ${reason}. ${addon.fallback[0].toUpperCase()}${addon.fallback.slice(1)}.`);
}

function everyAddonGivesUp(reason) {
  for (const addon of ADDONS) giveUp(addon, reason);
  process.exit(0);
}

if (process.env.SELFSUP_NATIVE_BUILD === '0') everyAddonGivesUp('SELFSUP_NATIVE_BUILD=0');
if (process.platform !== 'linux' || process.arch !== 'x64') everyAddonGivesUp(`no native build for ${process.platform}-${process.arch} yet (linux-x64 only)`);

const includeCandidates = [
  process.env.SELFSUP_NODE_INCLUDE,
  path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
  '/usr/include/node',
  '/usr/local/include/node',
  path.join(os.homedir(), '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
].filter(Boolean);
const nodeInclude = includeCandidates.find((d) => fs.existsSync(path.join(d, 'node_api.h')));
if (!nodeInclude) everyAddonGivesUp(`Node's headers (node_api.h) not found in ${includeCandidates.join(', ')}; set SELFSUP_NODE_INCLUDE`);
const cxx = process.env.CXX || 'g++';

function build(addon) {
  const target = path.join(out, `${addon.name}.node`);
  const stamp = path.join(out, `${addon.name}.sources.sha256`);
  const sources = fs
    .readdirSync(addon.dir)
    .filter((f) => f.endsWith('.cc') || f.endsWith('.h'))
    .sort();
  const hash = createHash('sha256');
  for (const f of sources) hash.update(f).update(fs.readFileSync(path.join(addon.dir, f)));
  hash.update(process.versions.modules);
  const digest = hash.digest('hex');
  if (fs.existsSync(target) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === digest) {
    say(`${addon.name} up to date`);
    return;
  }
  const args = [
    '-O3',
    '-std=c++17',
    '-shared',
    '-fPIC',
    '-fvisibility=hidden',
    // no FP traps or errno from math calls (selfsup sets neither): lets loops with divisions, sqrt and
    // branches vectorise; NaN and infinity behave as before
    '-fno-trapping-math',
    '-fno-math-errno',
    `-DNODE_GYP_MODULE_NAME=${addon.name}`,
    `-I${nodeInclude}`,
    ...sources.filter((f) => f.endsWith('.cc')).map((f) => path.join(addon.dir, f)),
    ...addon.libs,
    '-o',
  ];
  fs.mkdirSync(out, { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  say(`building ${addon.name} with ${cxx} (Node headers ${nodeInclude}) ...`);
  const started = Date.now();
  try {
    execFileSync(cxx, [...args, tmp], { stdio: ['ignore', 'inherit', 'pipe'] });
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    if (e.code === 'ENOENT') return giveUp(addon, `no C++ compiler (${cxx}): install g++, then npm run build:native (or node native/build.mjs)`);
    const err = String(e.stderr ?? e.message);
    return giveUp(addon, addon.missing(err) || `the compiler failed: ${err.split('\n').find((l) => /error/.test(l)) ?? err.split('\n')[0]}`);
  }
  fs.renameSync(tmp, target);
  fs.writeFileSync(stamp, digest + '\n');
  fs.rmSync(path.join(out, addon.unavailable), { force: true });
  say(`built ${path.relative(process.cwd(), target)} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

for (const addon of ADDONS) build(addon);
