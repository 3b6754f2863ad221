#!/usr/bin/env bash
# The measurements of docs/BENCHMARKS.md, in one session: the Java kernels (with the FMA peak),
# PyTorch's CPU SDPA on the same shapes right after, the 256-bit and scalar paths, the memory
# check at N = 65,536, the exp2 micro-benchmark and the cost of each option. Writes docs/bench/*.csv and *.txt.
# Usage: scripts/bench_all.sh [python with torch, default /work/venv/bin/python]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
py="${1:-/work/venv/bin/python}"
out=docs/bench
mkdir -p "$out"
{ date -u; uptime; } > "$out/load.txt"
shapes=(--n 1024,4096 --d 64,128 --heads 8 --batch 1 --causal both --threads 1,2)

./flashattn bench "${shapes[@]}" --kernel fast,paper,naive --iters 7 --no-progress \
  --csv "$out/java.csv" --plot "$out/java.png" | tee "$out/java.txt"
peaks=$(awk -F, 'NR > 1 && $1 == "fast" { p[$2] = $12 } END { s = ""; for (t in p) s = s t "=" p[t] ","; print s }' "$out/java.csv")
"$py" scripts/bench_torch.py "${shapes[@]}" --iters 7 --peak "$peaks" --csv "$out/torch.csv" \
  | tee "$out/torch.txt"
FLASHATTN_JAVA_OPTS="-Dflashattn.vector.bits=256" ./flashattn bench --n 4096 --d 64 --heads 8 \
  --causal none --threads 1 --kernel fast --iters 5 --no-progress | tee "$out/java-256bit.txt"
FLASHATTN_JAVA_OPTS="-Dflashattn.vector.bits=0" ./flashattn bench --n 1024 --d 64 --heads 8 \
  --causal none --threads 1 --kernel fast --iters 3 --no-progress | tee "$out/java-scalar.txt"
# N = 65,536, d = 64, H = 1 in a 150 MiB heap: inputs and outputs take 64 MiB of it
FLASHATTN_JAVA_OPTS="-Xmx150m" ./flashattn bench --n 65536 --d 64 --heads 1 --causal none \
  --threads 2 --kernel fast --warmup 0 --iters 1 --no-progress | tee "$out/java-64k.txt"
make -s bench ARGS='ExpBenchmark -wi 3 -i 5 -w 1 -r 1' 2>&1 | grep -E '^(Benchmark|ExpBenchmark)' \
  | tee "$out/exp.txt"
make -s bench ARGS='OptionsBenchmark' 2>&1 | grep -E '^(Benchmark|OptionsBenchmark)' \
  | tee "$out/options.txt"
{ date -u; uptime; } >> "$out/load.txt"
