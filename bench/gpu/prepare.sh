#!/usr/bin/env bash
# Prepare the WebGPU-vs-CUDA step benchmark for the device machine (NVIDIA GPU, no network, no Node):
# everything it needs goes into .gpu/ and .gl/ (both ignored by git), to be carried with the run.
#   npm ci && npm run build && bash bench/gpu/prepare.sh
# then, on the device (the `device` tool's run, carry [".gpu", ".gl"]):
#   bash bench/gpu/run.sh
# What goes along (the working tree and carried paths travel, 64 MiB at most):
#   .gpu/node.xz                  this machine's Node binary (the device has none)
#   .gpu/selfsup.mjs              dist/cli/main.js bundled with its dependencies (esbuild)
#   .gpu/node_modules/webgpu      Dawn for Node (dawn.node), the one native part
#   .gpu/node_modules/better-sqlite3 (+ bindings): the sweep store, imported by the bundle
#   (tfjs-backend-wasm's .wasm files stay behind: --backend wasm is not available there)
#   .gpu/torch_step.py            the same SimCLR step in PyTorch on CUDA
#   .gl/*.deb                     Vulkan loader and GL dispatch libraries (Dawn needs libvulkan1)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f dist/cli/main.js ] || { echo "run npm run build first" >&2; exit 2; }
for p in .gpu .gl; do grep -qx "/$p/" .git/info/exclude 2>/dev/null || echo "/$p/" >> .git/info/exclude; done
rm -rf .gpu && mkdir -p .gpu/node_modules .gl
# the optional peers go into their own folder (npm leaves a root project's own optional peers
# uninstalled), without their copies of tfjs-core and tfjs-backend-cpu: resolved from there, the
# bundle's tfjs-backend-webgpu finds the project's, so one tfjs-core is bundled
PEERS=.gpu/peers
echo "== optional peers into $PEERS: webgpu, @tensorflow/tfjs-backend-webgpu"
mkdir -p $PEERS && echo '{"private":true}' > $PEERS/package.json
npm install --prefix $PEERS --no-save --no-package-lock --no-audit --no-fund webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0
rm -rf $PEERS/node_modules/@tensorflow/tfjs-core $PEERS/node_modules/@tensorflow/tfjs-backend-cpu
echo "== bundle"
npx esbuild dist/cli/main.js --bundle --platform=node --format=esm --ignore-annotations \
  --alias:@tensorflow/tfjs-backend-webgpu=./$PEERS/node_modules/@tensorflow/tfjs-backend-webgpu \
  --external:webgpu --external:better-sqlite3 --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
  --outfile=.gpu/selfsup.mjs --log-level=warning
# the bundle resolves packageRoot() from its own path: .gpu/ sits in the repository, whose package.json and presets/ travel
cp -r $PEERS/node_modules/webgpu .gpu/node_modules/
for m in bindings file-uri-to-path; do cp -r "node_modules/$m" .gpu/node_modules/; done
# better-sqlite3: its JS and the built addon only (its sources are 30 MB)
mkdir -p .gpu/node_modules/better-sqlite3/build/Release
cp -r node_modules/better-sqlite3/package.json node_modules/better-sqlite3/lib .gpu/node_modules/better-sqlite3/
cp node_modules/better-sqlite3/build/Release/better_sqlite3.node .gpu/node_modules/better-sqlite3/build/Release/
rm -rf $PEERS
# only Linux x64 of Dawn
find .gpu/node_modules/webgpu/dist -mindepth 1 -maxdepth 1 -type d ! -name linux-x64 -exec rm -rf {} +
xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > .gpu/node.xz
cp bench/gpu/torch_step.py .gpu/
echo "== Vulkan loader and GL dispatch .debs (amd64)"
mkdir -p /tmp/amd64/partial
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
apt-get $o update -qq
(cd .gl && rm -f ./*.deb && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
du -sh .gpu .gl
total=$(( $(du -sb .gpu | cut -f1) + $(du -sb .gl | cut -f1) + $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1) ))
echo "what travels: $((total / 1048576)) MiB of 64"
[ "$total" -lt $((64 * 1048576)) ] || { echo "over the device's 64 MiB: trim .gpu" >&2; exit 1; }
echo "ready: carry [\".gpu\", \".gl\"] and run: bash bench/gpu/run.sh"
