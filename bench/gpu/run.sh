#!/usr/bin/env bash
# On the device machine (see prepare.sh): the SimCLR and MoCo small-CNN steps (batch 256) on WebGPU
# with selfsup's WebGPU kernels and without them (SELFSUP_WEBGPU_KERNELS=0), one profiled step, and the
# same SimCLR step in PyTorch on CUDA, in one run; then a table. Results also in $OUT (if set).
#   bash bench/gpu/run.sh [STEPS=10]
set -uo pipefail
cd "$(dirname "$0")/../.."
STEPS=${1:-10}
OUTDIR=${OUT:-/tmp/gpu-bench}
mkdir -p "$OUTDIR"
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
export __EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json}
NODE=/tmp/node
[ -x $NODE ] || { xz -dc .gpu/node.xz > $NODE && chmod +x $NODE; }
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUTDIR/gpu.txt"
SELFSUP() { $NODE .gpu/selfsup.mjs "$@"; }
echo "== selfsup on webgpu, selfsup kernels on"
SELFSUP bench --backend webgpu --cases simclr-smallcnn,moco-smallcnn --warmup 3 --steps "$STEPS" --json 2>"$OUTDIR/webgpu.err" | tail -1 | tee "$OUTDIR/webgpu.json"
echo "== selfsup on webgpu, as shipped (SELFSUP_WEBGPU_KERNELS=0)"
SELFSUP_WEBGPU_KERNELS=0 SELFSUP bench --backend webgpu --cases simclr-smallcnn --warmup 3 --steps "$STEPS" --json 2>"$OUTDIR/webgpu-stock.err" | tail -1 | tee "$OUTDIR/webgpu-stock.json"
echo "== one profiled step"
SELFSUP bench --backend webgpu --cases simclr-smallcnn --warmup 2 --steps 2 --profile 2>&1 | tail -25 | tee "$OUTDIR/webgpu-profile.txt"
echo "== PyTorch CUDA"
PYTHONUNBUFFERED=1 python3 .gpu/torch_step.py --steps "$STEPS" | tail -1 | tee "$OUTDIR/torch.json"
$NODE -e '
const fs = require("fs");
const read = (f) => { try { return JSON.parse(fs.readFileSync(f, "utf8").trim().split("\n").pop()); } catch { return undefined; } };
const w = read(process.argv[1] + "/webgpu.json"), s = read(process.argv[1] + "/webgpu-stock.json"), t = read(process.argv[1] + "/torch.json");
const ms = (r, c) => r?.results?.find((x) => x.case === c)?.medianMs;
const rows = [["SimCLR small CNN", ms(w, "simclr-smallcnn"), ms(s, "simclr-smallcnn"), t?.simclr_ms], ["MoCo small CNN", ms(w, "moco-smallcnn"), undefined, t?.moco_ms]];
console.log("| step, batch 256 | selfsup webgpu ms | webgpu as shipped ms | PyTorch CUDA ms | ratio |\n|---|---|---|---|---|");
for (const [n, a, b, c] of rows) console.log(`| ${n} | ${a?.toFixed(1) ?? "-"} | ${b?.toFixed(1) ?? "-"} | ${c?.toFixed(2) ?? "-"} | ${a && c ? (a / c).toFixed(1) + "x" : "-"} |`);
const r0 = w?.results?.[0]; console.log(`backend: ${r0?.backend ?? "?"} (${r0?.details ?? ""})`);
' "$OUTDIR" | tee "$OUTDIR/table.md"
