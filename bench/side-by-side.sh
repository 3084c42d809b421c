#!/usr/bin/env bash
# CPU step time, selfsup (wasm, N threads) beside PyTorch (Debian's python3-torch, same thread count)
# on the same machine in one run, alternating, ROUNDS times. The PyTorch step is ../shared/bench's
# peer_simclr_step.py (same small CNN 32-64-128, MLP head 128-128-64, NT-Xent, batch 256 = 512 views).
#   apt-get install python3-torch dataset-fashion-mnist; npm run build
#   bash bench/side-by-side.sh [ROUNDS=2] [THREADS=2]
# Prints one line per run and a Markdown table of medians (ms per step).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
THREADS=${2:-2}
PEER=${PEER:-../shared/bench/peer_simclr_step.py}
PY=/usr/bin/python3
[ -f "$PEER" ] || { echo "PyTorch reference not found: $PEER (set PEER=...)" >&2; exit 4; }
OUT=$(mktemp)
for r in $(seq 1 "$ROUNDS"); do
  for m in simclr moco; do
    line=$($PY "$PEER" --method "$m" --threads "$THREADS" --warmup 3 --steps 10 2>/dev/null | tail -1)
    ms=$(echo "$line" | grep -o '"step_ms_median": *[0-9.]*' | grep -o '[0-9.]*$')
    echo "round $r torch-$m ${THREADS}t: $ms ms" >&2
    echo "torch-$m $ms" >> "$OUT"
    case=$([ "$m" = simclr ] && echo simclr-smallcnn || echo moco-smallcnn)
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
console.log(`| step (batch 256, ${process.argv[2]} threads) | PyTorch CPU ms | selfsup wasm ms | ratio |`);
console.log("|---|---|---|---|");
for (const m of ["simclr", "moco"]) { const t = med(by["torch-" + m]), s = med(by["selfsup-" + m]); console.log(`| ${m} small CNN | ${t.toFixed(0)} | ${s.toFixed(0)} | ${(s / t).toFixed(2)}x |`); }
' "$OUT" "$THREADS"
rm -f "$OUT"
