#!/usr/bin/env node
// Builds selfsup's native CPU kernels (native/src, a Node-API addon on oneDNN) into
// native/build/selfsup_native.node. Run by `npm install` (the package's install script) and by
// hand (`node native/build.mjs`). It never fails the install: when the addon cannot be built (no
// C++ compiler, no oneDNN headers, no Node headers, another OS) it writes the reason to
// native/build/unavailable.txt, exits 0, and selfsup's `auto` backend uses wasm and prints why.
//
// Needs: g++ (or $CXX) with OpenMP, oneDNN 2.x (Debian/Ubuntu: apt-get install libdnnl-dev),
// Node's headers (node_api.h: Debian's nodejs package ships them, as does the nodejs.org tarball).
// SELFSUP_NATIVE_BUILD=0 skips the build. The build is skipped when the sources are unchanged.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(here, 'src');
const out = path.join(here, 'build');
const target = path.join(out, 'selfsup_native.node');
const stamp = path.join(out, 'sources.sha256');
const unavailable = path.join(out, 'unavailable.txt');

function say(m) {
  process.stderr.write(`selfsup native: ${m}\n`);
}
function giveUp(reason) {
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(unavailable, reason + '\n');
  fs.rmSync(target, { force: true });
  say(`not built: ${reason}. selfsup will use the wasm backend.`);
  process.exit(0);
}

if (process.env.SELFSUP_NATIVE_BUILD === '0') giveUp('SELFSUP_NATIVE_BUILD=0');
if (process.platform !== 'linux' || process.arch !== 'x64') giveUp(`no native build for ${process.platform}-${process.arch} yet (linux-x64 only)`);

const sources = fs
  .readdirSync(src)
  .filter((f) => f.endsWith('.cc') || f.endsWith('.h'))
  .sort();
const hash = createHash('sha256');
for (const f of sources) hash.update(f).update(fs.readFileSync(path.join(src, f)));
hash.update(process.versions.modules);
const digest = hash.digest('hex');
if (fs.existsSync(target) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === digest) {
  say('up to date');
  process.exit(0);
}

const includeCandidates = [
  process.env.SELFSUP_NODE_INCLUDE,
  path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
  '/usr/include/node',
  '/usr/local/include/node',
  path.join(os.homedir(), '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
].filter(Boolean);
const nodeInclude = includeCandidates.find((d) => fs.existsSync(path.join(d, 'node_api.h')));
if (!nodeInclude) giveUp(`Node's headers (node_api.h) not found in ${includeCandidates.join(', ')}; set SELFSUP_NODE_INCLUDE`);

const cxx = process.env.CXX || 'g++';
const args = [
  '-O3',
  '-std=c++17',
  '-shared',
  '-fPIC',
  '-fopenmp',
  '-fvisibility=hidden',
  // no FP traps or errno from math calls (selfsup sets neither): lets loops with divisions, sqrt and
  // branches vectorise; NaN and infinity behave as before
  '-fno-trapping-math',
  '-fno-math-errno',
  '-DNODE_GYP_MODULE_NAME=selfsup_native',
  `-I${nodeInclude}`,
  ...sources.filter((f) => f.endsWith('.cc')).map((f) => path.join(src, f)),
  '-ldnnl',
  '-o',
];
fs.mkdirSync(out, { recursive: true });
const tmp = `${target}.${process.pid}.tmp`;
say(`building with ${cxx} (Node headers ${nodeInclude}) ...`);
const started = Date.now();
try {
  execFileSync(cxx, [...args, tmp], { stdio: ['ignore', 'inherit', 'pipe'] });
} catch (e) {
  fs.rmSync(tmp, { force: true });
  if (e.code === 'ENOENT') giveUp(`no C++ compiler (${cxx}): install g++, then npm run build:native (or node native/build.mjs)`);
  const err = String(e.stderr ?? e.message);
  giveUp(
    /dnnl\.hpp|ldnnl/.test(err)
      ? 'oneDNN not found (apt-get install libdnnl-dev, then npm run build:native or node native/build.mjs)'
      : `the compiler failed: ${err.split('\n').find((l) => /error/.test(l)) ?? err.split('\n')[0]}`,
  );
}
fs.renameSync(tmp, target);
fs.writeFileSync(stamp, digest + '\n');
fs.rmSync(unavailable, { force: true });
say(`built ${path.relative(process.cwd(), target)} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
