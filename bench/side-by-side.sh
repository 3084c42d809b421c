#!/usr/bin/env bash
# CPU step time, selfsup (BACKEND, N threads) beside PyTorch (Debian's python3-torch, same thread count)
# on the same machine in one run, alternating, ROUNDS times. The PyTorch step is ../shared/bench's
# peer_simclr_step.py:
#   cnn:    SimCLR and MoCo, small CNN 32-64-128, MLP head 128-128-64, NT-Xent, batch 256 = 512 views;
#   vit:    SimCLR with ViT-tiny (patch 4, 32x32x3, batch 64) and MAE with ViT-tiny (batch 128, 75% masked,
#           decoder 4 x 128): `selfsup bench --cases simclr-vit-tiny,mae-vit-tiny`;
#   resnet: SimCLR with ResNet-18 (32x32x3, projector 512 -> 128, batch 64): `selfsup bench --cases
#           simclr-resnet18 --batch 64`.
# It first prints the CPU (model, cores, the ISA flags that matter for kernels) and checks which BLAS
# Debian's python3-torch will load: on the generic reference BLAS (no OpenBLAS, BLIS or MKL behind
# libblas.so.3) it prints a WARNING, as the peer is then ~10x slower on matrix products (the ViT step:
# 61 s against 5.3 s); apt-get install libopenblas0-openmp fixes it. It installs nothing.
#   apt-get install python3-torch libopenblas0-openmp dataset-fashion-mnist; npm run build
#   [BACKEND=wasm|native|cpu|...] bash bench/side-by-side.sh [ROUNDS=2] [THREADS=2] [CASES=cnn|vit|mae|resnet|all]
# (mae: the MAE case of vit alone)
# BACKEND (default wasm) is selfsup's --backend; THREADS goes to both SELFSUP_WASM_THREADS and
# SELFSUP_THREADS. Prints one line per run and a Markdown table of medians (ms per step).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
THREADS=${2:-2}
CASES=${3:-cnn}
BACKEND=${BACKEND:-wasm}
PEER=${PEER:-../shared/bench/peer_simclr_step.py}
PY=/usr/bin/python3
[ -f "$PEER" ] || { echo "PyTorch reference not found: $PEER (set PEER=...)" >&2; exit 4; }

# The CPU line, as `selfsup bench` prints it (cli/cpu-info.ts): the first processor's model name (with
# family, model and stepping when the name has no model number, as "AMD EPYC" on some VMs), the cores
# this process may use, and the kernel-relevant ISA flags.
cpu_line() {
  local isa="sse4_2 avx avx2 fma f16c avx512f avx512bw avx512vl avx512dq avx512_vnni avx512_bf16 amx_tile amx_bf16 amx_int8 avx_vnni"
  if [ -r /proc/cpuinfo ]; then
    awk -v isa="$isa" -v cores="$(nproc)" -F: '
      /^[[:space:]]*$/ { if (seen) exit; next }
      { k = $1; gsub(/^[ \t]+|[ \t]+$/, "", k); v = substr($0, index($0, ":") + 1); gsub(/^[ \t]+|[ \t]+$/, "", v); f[k] = v; seen = 1 }
      END {
        m = f["model name"]; gsub(/[ \t]+/, " ", m)
        if (m !~ /[0-9]/ && ("cpu family" in f) && ("model" in f)) {
          fms = "family " f["cpu family"] " model " f["model"] (("stepping" in f) ? " stepping " f["stepping"] : "")
          m = (m == "" ? fms : m " (" fms ")")
        }
        if (m == "") m = "unknown CPU"
        n = split(f["flags"], fl, /[ \t]+/); for (i = 1; i <= n; i++) have[fl[i]] = 1
        k = split(isa, want, " "); out = ""
        for (i = 1; i <= k; i++) if (want[i] in have) out = out " " want[i]
        printf "CPU: %s, %d core%s, ISA%s\n", m, cores, (cores == 1 ? "" : "s"), (out == "" ? " (unknown)" : out)
      }' /proc/cpuinfo
  else
    echo "CPU: $(uname -m), $(nproc 2>/dev/null || echo '?') cores, ISA (unknown)"
  fi
}
cpu_line

# Debian's python3-torch takes its BLAS from libblas.so.3, an alternative that is the generic reference
# BLAS unless OpenBLAS, BLIS or MKL is installed. Warn (loudly) when it is the reference one.
blas=""
for l in /usr/lib/x86_64-linux-gnu/libblas.so.3 /etc/alternatives/libblas.so.3-x86_64-linux-gnu /usr/lib/"$(uname -m)"-linux-gnu/libblas.so.3; do
  [ -e "$l" ] && { blas=$(readlink -f "$l"); break; }
done
case "$blas" in
  *openblas* | *blis* | *mkl*) echo "BLAS for PyTorch: $blas" ;;
  *)
    warn="WARNING: the PyTorch peer is WEAK here: libblas.so.3 is the generic reference BLAS (${blas:-not found}),"
    warn+=" ~10x slower on matrix products than OpenBLAS, so the ratios below flatter selfsup."
    warn+=" Fix: apt-get install libopenblas0-openmp"
    echo "$warn"
    [ -t 1 ] || echo "$warn" >&2
    ;;
esac

# name | peer arguments | selfsup bench case | extra selfsup bench arguments
CNN=("simclr|--method simclr|simclr-smallcnn|" "moco|--method moco|moco-smallcnn|")
VIT=("simclr-vit|--method simclr --arch vit-tiny --batch 64|simclr-vit-tiny|" "mae-vit|--method mae --arch vit-tiny --batch 128|mae-vit-tiny|")
RESNET=("simclr-resnet18|--method simclr --arch resnet18 --batch 64|simclr-resnet18|--batch 64")
case "$CASES" in
  cnn) LIST=("${CNN[@]}") ;;
  vit) LIST=("${VIT[@]}") ;;
  mae) LIST=("${VIT[1]}") ;;
  resnet) LIST=("${RESNET[@]}") ;;
  all) LIST=("${CNN[@]}" "${VIT[@]}" "${RESNET[@]}") ;;
  *) echo "CASES must be cnn, vit, mae, resnet or all" >&2; exit 2 ;;
esac
OUT=$(mktemp)
for r in $(seq 1 "$ROUNDS"); do
  for entry in "${LIST[@]}"; do
    IFS='|' read -r m peer_args case extra <<< "$entry"
    # shellcheck disable=SC2086
    line=$($PY "$PEER" $peer_args --threads "$THREADS" --warmup 3 --steps 10 2>/dev/null | tail -1)
    ms=$(echo "$line" | grep -o '"step_ms_median": *[0-9.]*' | grep -o '[0-9.]*$')
    echo "round $r torch-$m ${THREADS}t: $ms ms" >&2
    echo "torch-$m $ms" >> "$OUT"
    # shellcheck disable=SC2086
    json=$(SELFSUP_WASM_THREADS=$THREADS SELFSUP_THREADS=$THREADS node dist/cli/main.js bench --cases "$case" $extra --backend "$BACKEND" --warmup 3 --steps 10 --json 2>/dev/null | tail -1)
    ms=$(node -e 'const r=JSON.parse(process.argv[1]).results[0]; console.log(r.medianMs===undefined?"NaN":r.medianMs.toFixed(1))' "$json")
    echo "round $r selfsup-$m $BACKEND ${THREADS}t: $ms ms" >&2
    echo "selfsup-$m $ms" >> "$OUT"
  done
done
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split(" "));
const by = {}; for (const [k, v] of lines) (by[k] ??= []).push(Number(v));
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const label = { simclr: "SimCLR small CNN, batch 256", moco: "MoCo small CNN, batch 256", "simclr-vit": "SimCLR ViT-tiny, batch 64", "mae-vit": "MAE ViT-tiny, batch 128", "simclr-resnet18": "SimCLR ResNet-18, batch 64" };
console.log(`| step (${process.argv[2]} threads) | PyTorch CPU ms | selfsup ${process.argv[3]} ms | ratio |`);
console.log("|---|---|---|---|");
for (const m of Object.keys(label)) { if (!by["torch-" + m]) continue; const t = med(by["torch-" + m]), s = med(by["selfsup-" + m]); console.log(`| ${label[m]} | ${t.toFixed(0)} | ${s.toFixed(0)} | ${(s / t).toFixed(2)}x |`); }
' "$OUT" "$THREADS" "$BACKEND"
rm -f "$OUT"
