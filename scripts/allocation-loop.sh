#!/usr/bin/env bash
# Runs core's allocation tests (the two surefire executions 'allocation' and 'allocation-4x4', each
# one fresh JVM per test class) N times in a row and counts the failures. A failure is a defect:
# this loop is how issue 18's "50 fresh JVMs in a row" was shown. Extra JVM flags go after N, e.g.
#   scripts/allocation-loop.sh 50                 # the machine's own vector width
#   scripts/allocation-loop.sh 50 -XX:UseAVX=2    # C2 limited to AVX2 (16 vector registers)
# Needs the test classes compiled (mvn -pl core test-compile, or any earlier build).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-50}
shift || true
export JAVA_HOME=${JAVA_HOME:-$(scripts/find-jdk.sh)}
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
base="--add-modules=jdk.incubator.vector,jdk.management --add-reads dev.flashattn4j=java.management,jdk.management -Xss4m"
extra="$*"
log=$(mktemp)
for execution in allocation allocation-4x4; do
  failed=0
  for i in $(seq 1 "$n"); do
    if ! mvn -o -q -B -pl core "surefire:test@$execution" "-Dtest.argLine=$base $extra" >"$log" 2>&1; then
      failed=$((failed + 1))
      keep="${TMPDIR:-/tmp}/allocation-loop-$execution-$i.log"
      cp "$log" "$keep"
      echo "run $i of $execution failed (log: $keep):" >&2
      grep -E "FAIL|allocated|Tests run:.*Fail|ERROR" "$log" | head -5 >&2 || true
    fi
  done
  echo "$execution ${extra:+($extra) }: $((n - failed)) of $n passed"
done
rm -f "$log"
