#!/usr/bin/env bash
# CPU step time, selfsup (wasm, N threads) beside PyTorch (Debian's python3-torch, same thread count)
# on the same machine in one run, alternating, ROUNDS times. The PyTorch step is ../shared/bench's
# peer_simclr_step.py:
#   cnn: SimCLR and MoCo, small CNN 32-64-128, MLP head 128-128-64, NT-Xent, batch 256 = 512 views;
#   vit: SimCLR with ViT-tiny (patch 4, 32x32x3, batch 64) and MAE with ViT-tiny (batch 128, 75% masked,
#        decoder 4 x 128): `selfsup bench --cases simclr-vit-tiny,mae-vit-tiny`.
# For a fair PyTorch install OpenBLAS (apt-get install libopenblas0-openmp): Debian's generic BLAS is
# ~10x slower on matrix products (the ViT step: 61 s against 5.3 s).
#   apt-get install python3-torch libopenblas0-openmp dataset-fashion-mnist; npm run build
#   bash bench/side-by-side.sh [ROUNDS=2] [THREADS=2] [CASES=cnn|vit|all]
# Prints one line per run and a Markdown table of medians (ms per step).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
THREADS=${2:-2}
CASES=${3:-cnn}
PEER=${PEER:-../shared/bench/peer_simclr_step.py}
PY=/usr/bin/python3
[ -f "$PEER" ] || { echo "PyTorch reference not found: $PEER (set PEER=...)" >&2; exit 4; }
# name | peer arguments | selfsup bench case
CNN=("simclr|--method simclr|simclr-smallcnn" "moco|--method moco|moco-smallcnn")
VIT=("simclr-vit|--method simclr --arch vit-tiny --batch 64|simclr-vit-tiny" "mae-vit|--method mae --arch vit-tiny --batch 128|mae-vit-tiny")
case "$CASES" in
  cnn) LIST=("${CNN[@]}") ;;
  vit) LIST=("${VIT[@]}") ;;
  all) LIST=("${CNN[@]}" "${VIT[@]}") ;;
  *) echo "CASES must be cnn, vit or all" >&2; exit 2 ;;
esac
OUT=$(mktemp)
for r in $(seq 1 "$ROUNDS"); do
  for entry in "${LIST[@]}"; do
    IFS='|' read -r m peer_args case <<< "$entry"
    # shellcheck disable=SC2086
    line=$($PY "$PEER" $peer_args --threads "$THREADS" --warmup 3 --steps 10 2>/dev/null | tail -1)
    ms=$(echo "$line" | grep -o '"step_ms_median": *[0-9.]*' | grep -o '[0-9.]*$')
    echo "round $r torch-$m ${THREADS}t: $ms ms" >&2
    echo "torch-$m $ms" >> "$OUT"
    json=$(SELFSUP_WASM_THREADS=$THREADS node dist/cli/main.js bench --cases "$case" --backend wasm --warmup 3 --steps 10 --json 2>/dev/null | tail -1)
    ms=$(node -e 'const r=JSON.parse(process.argv[1]).results[0]; console.log(r.medianMs===undefined?"NaN":r.medianMs.toFixed(1))' "$json")
    echo "round $r selfsup-$m wasm ${THREADS}t: $ms ms" >&2
    echo "selfsup-$m $ms" >> "$OUT"
  done
done
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split(" "));
const by = {}; for (const [k, v] of lines) (by[k] ??= []).push(Number(v));
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const label = { simclr: "SimCLR small CNN, batch 256", moco: "MoCo small CNN, batch 256", "simclr-vit": "SimCLR ViT-tiny, batch 64", "mae-vit": "MAE ViT-tiny, batch 128" };
console.log(`| step (${process.argv[2]} threads) | PyTorch CPU ms | selfsup wasm ms | ratio |`);
console.log("|---|---|---|---|");
for (const m of Object.keys(label)) { if (!by["torch-" + m]) continue; const t = med(by["torch-" + m]), s = med(by["selfsup-" + m]); console.log(`| ${label[m]} | ${t.toFixed(0)} | ${s.toFixed(0)} | ${(s / t).toFixed(2)}x |`); }
' "$OUT" "$THREADS"
rm -f "$OUT"
