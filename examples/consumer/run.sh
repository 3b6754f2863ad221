#!/usr/bin/env bash
# Builds this project against the installed flashattn4j-core and runs it three ways, as users
# do: on the class path without flags (the scalar kernels, with one warning line saying how to get
# SIMD), on the class path with --add-modules jdk.incubator.vector (SIMD, no warning), and with the
# library on the module path (it requires the Vector API module itself: SIMD, no flag, no warning).
# Usage: examples/consumer/run.sh [VERSION]; JAVA_HOME must be a JDK 25.
set -euo pipefail
cd "$(dirname "$0")"
version="${1:-0.1.0-SNAPSHOT}"
java="${JAVA_HOME:?JAVA_HOME must point to a JDK 25}/bin/java"
warning="flashattn4j: module jdk.incubator.vector is not in this JVM"

# target/lib anew: jars of an earlier run's dependencies would sit beside today's
rm -rf target/lib
mvn -q -B -ntp -Dflashattn4j.version="$version" package

fail() { echo "consumer: FAILED: $*" >&2; exit 1; }

# run NAME EXPECT_WARNING(yes|no) JAVA_ARGS...
run() {
  local name=$1 expect=$2
  shift 2
  local out err
  out=$(mktemp) err=$(mktemp)
  if ! "$java" "$@" >"$out" 2>"$err"; then
    cat "$out" "$err" >&2
    fail "$name: exit status $?"
  fi
  grep -q '^OK: ' "$out" || { cat "$out" "$err" >&2; fail "$name: no OK line"; }
  local warnings
  warnings=$(grep -c "^$warning" "$err" || true)
  if [ "$expect" = yes ] && [ "$warnings" != 1 ]; then
    cat "$err" >&2
    fail "$name: expected the warning line once on stderr, saw it $warnings times"
  fi
  if [ "$expect" = no ] && [ "$warnings" != 0 ]; then
    cat "$err" >&2
    fail "$name: expected no warning"
  fi
  # nothing else on stderr but the JDK's own notice of the incubator module
  if grep -v -e "^$warning" -e '^WARNING: Using incubator modules' "$err" | grep -q .; then
    cat "$err" >&2
    fail "$name: unexpected output on stderr"
  fi
  echo "consumer ($name): $(grep '^row 1' "$out")" >&2
  rm -f "$out" "$err"
}

cp="target/classes:target/lib/*"
run "class path, no flags" yes -cp "$cp" example.Consumer
run "class path, --add-modules" no --add-modules jdk.incubator.vector -cp "$cp" example.Consumer
run "module path" no -p target/lib --add-modules dev.flashattn4j -cp target/classes example.Consumer
# the model module: a Llama checkpoint (the repository's tiny test model), greedy tokens; no SLF4J
# lines and no DJL network access asked for by the caller (the module is quiet and offline itself);
# --enable-native-access: the tokenizers library loads its native code through JNA
model_dir="$(cd ../../model/src/test/resources/models/llama && pwd)"
out=$(mktemp) err=$(mktemp)
"$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "$cp" example.ModelConsumer "$model_dir" >"$out" 2>"$err" ||
  { cat "$out" "$err" >&2; fail "model: exit status $?"; }
grep -q '^OK: ' "$out" || { cat "$out" "$err" >&2; fail "model: no OK line"; }
if grep -v '^WARNING: Using incubator modules' "$err" | grep -q .; then
  cat "$err" >&2
  fail "model: something on stderr (SLF4J's warnings?)"
fi
echo "consumer (model): $(grep '^OK: ' "$out")" >&2
rm -f "$out" "$err"
echo "consumer: OK (3 runs of the core, 1 of the model; compiled with -Xlint:all -Werror)" >&2
