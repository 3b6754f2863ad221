#!/usr/bin/env bash
# The measurements of docs/BENCHMARKS.md, in one session: the Java kernels (with the FMA peak),
# PyTorch's CPU SDPA on the same shapes right after, the scalar path, N = 65,536, the FMA peak and
# read bandwidth of independent C loops, the decode step (float32, float16, bfloat16), each case
# alone against the shuffled grid, the exp2 micro-benchmark and the cost of each option.
# Usage: scripts/bench_all.sh [python with torch (default /work/venv/bin/python)] [output folder
#        (default docs/bench/<isa>-<cpu>, e.g. docs/bench/avx2-zen3)]
# FLASHATTN_JAVA_OPTS is passed on (e.g. -XX:UseAVX=2 on an AVX-512 machine).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
py="${1:-/work/venv/bin/python}"
isa=avx2
grep -qw avx512f /proc/cpuinfo && isa=avx512
case "${FLASHATTN_JAVA_OPTS:-}" in *UseAVX=2*) isa=avx512-as-avx2 ;; esac
family=$(awk -F: '/^cpu family/ { gsub(/ /, "", $2); print $2; exit }' /proc/cpuinfo)
cpu=$(case "$family" in 25) echo zen3 ;; 26) echo zen5 ;; *) echo "family$family" ;; esac)
out="${2:-docs/bench/$isa-$cpu}"
mkdir -p "$out"
opts="${FLASHATTN_JAVA_OPTS:-}"
{ date -u; uptime; echo "FLASHATTN_JAVA_OPTS=$opts"; git rev-parse --short HEAD; } > "$out/load.txt"
shapes=(--n 1024,4096 --d 64,128 --heads 8 --batch 1 --causal both --threads 1,2)

./flashattn bench "${shapes[@]}" --kernel fast,paper,naive --iters 7 --no-progress \
  --csv "$out/java.csv" --plot "$out/java.png" | tee "$out/java.txt"
peaks=$(awk -F, 'NR > 1 && $1 == "fast" { p[$2] = $12 } END { s = ""; for (t in p) s = s t "=" p[t] ","; print s }' "$out/java.csv")
"$py" scripts/bench_torch.py "${shapes[@]}" --iters 7 --peak "$peaks" --csv "$out/torch.csv" \
  | tee "$out/torch.txt"
FLASHATTN_JAVA_OPTS="$opts -Dflashattn.vector.bits=0" ./flashattn bench --n 1024 --d 64 \
  --heads 8 --causal none --threads 1 --kernel fast --iters 3 --no-progress | tee "$out/java-scalar.txt"
# N = 65,536, d = 64, H = 1 in a 150 MiB heap: inputs and outputs take 64 MiB of it; and N = 4096,
# H = 1 in the same run, the rate it is compared with
FLASHATTN_JAVA_OPTS="$opts -Xmx150m" ./flashattn bench --n 4096,65536 --d 64 --heads 1 \
  --causal none --threads 2 --kernel fast --warmup 1 --iters 1 --no-progress | tee "$out/java-64k.txt"
# independent yardsticks: the FMA peak and the read bandwidth in C
if command -v gcc >/dev/null && grep -qw avx2 /proc/cpuinfo; then
  tmp=$(mktemp -d)
  gcc -O2 -mavx2 -mfma scripts/c/fma_peak.c -o "$tmp/fma_peak"
  gcc -O2 -mavx2 -fopenmp scripts/c/read_bw.c -o "$tmp/read_bw"
  { "$tmp/fma_peak"; OMP_NUM_THREADS=2 "$tmp/read_bw"; } | tee "$out/c-yardsticks.txt"
  rm -rf "$tmp"
fi
FLASHATTN_JAVA_OPTS="$opts -Xmx10g" ./flashattn bench-decode --cache-len 4096,32768,131072 \
  --batch 1 --storage float32,float16,bfloat16 --csv "$out/decode.csv" | tee "$out/decode.txt"
python3 scripts/bench_history.py --repeats 2 --csv "$out/history.csv" | tee "$out/history.txt" || true
make -s bench ARGS="ExpBenchmark -wi 3 -i 5 -w 1 -r 1" 2>&1 \
  | grep -E '^(Benchmark|ExpBenchmark)' | tee "$out/exp.txt" || true
{ date -u; uptime; } >> "$out/load.txt"
