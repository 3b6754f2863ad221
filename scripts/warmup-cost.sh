#!/usr/bin/env bash
# The first attention call of a fresh JVM, cold and after AttentionEngine.warmUp: N fresh JVMs of
# each (default 5), one line each (bench/.../WarmUpCost). Needs the JMH jar: make build.
#   scripts/warmup-cost.sh [runs] [N] [d] [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA_HOME=${JAVA_HOME:-$(scripts/find-jdk.sh)}
runs=${1:-5}
shift || true
jar=bench/target/benchmarks.jar
[ -s "$jar" ] || { echo "warmup-cost: $jar is missing: run make build" >&2; exit 1; }
for i in $(seq "$runs"); do
  for mode in cold warm; do
    "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -cp "$jar" \
      dev.flashattn4j.bench.WarmUpCost "$mode" "$@" 2>&1 | grep -v '^WARNING: Using incubator'
  done
done
