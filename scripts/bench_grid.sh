#!/usr/bin/env bash
# Issue 18's grid, side by side in one session: the forward and the backward of ./flashattn bench
# (fast kernel) and of PyTorch's CPU SDPA right after, on N ∈ {1024, 4096}, d ∈ {64, 128}, causal
# none and top-left, 1 thread and all cores; then the table of ratios (scripts/bench_ratio.py).
# Usage: scripts/bench_grid.sh PYTHON_WITH_TORCH FOLDER [THREADS (default 1,<cores>)]
# FLASHATTN_JAVA_OPTS is passed on; with -XX:UseAVX=2 in it, PyTorch runs with
# ATEN_CPU_CAPABILITY=avx2, so that both sides are limited alike.
set -euo pipefail
cd "$(dirname "$0")/.."
py=$1
out=$2
threads=${3:-1,$(nproc)}
mkdir -p "$out"
capability=
case "${FLASHATTN_JAVA_OPTS:-}" in *UseAVX=2*) capability=avx2 ;; esac
shapes=(--n 1024,4096 --d 64,128 --heads 8 --batch 1 --causal both --threads "$threads")
{ date -u; uptime; echo "FLASHATTN_JAVA_OPTS=${FLASHATTN_JAVA_OPTS:-}"; git rev-parse --short HEAD; } > "$out/load.txt"
for pass in forward backward; do
  flag=
  [ $pass = backward ] && flag=--backward
  ./flashattn bench "${shapes[@]}" $flag --kernel fast --iters 7 --no-progress \
    --csv "$out/$pass-java.csv" | tee "$out/$pass-java.txt"
  peaks=$(awk -F, 'NR > 1 { p[$2] = $12 } END { s = ""; for (t in p) s = s t "=" p[t] ","; print s }' \
    "$out/$pass-java.csv")
  (if [ -n "$capability" ]; then export ATEN_CPU_CAPABILITY=$capability; fi
   "$py" scripts/bench_torch.py "${shapes[@]}" $flag --iters 7 --peak "$peaks" \
     --csv "$out/$pass-torch.csv") | tee "$out/$pass-torch.txt"
done
{ date -u; uptime; } >> "$out/load.txt"
python3 scripts/bench_ratio.py "$out" | tee "$out/ratios.md"
