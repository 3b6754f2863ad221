#!/usr/bin/env bash
# The Gradle build of README.md, run: builds this project against the installed flashattn4j-core
# (make install puts it in ~/.m2, which mavenLocal() reads) and runs it with the Vector API module.
# Debian's Gradle (4.4.1) runs this Groovy build under JDK 25. Without a gradle command it says so
# in one line and exits 0 (the CI installs one).
# Usage: examples/gradle-consumer/run.sh [VERSION]; JAVA_HOME must be a JDK 25.
set -euo pipefail
cd "$(dirname "$0")"
version="${1:-0.1.0-SNAPSHOT}"
if ! command -v gradle >/dev/null; then
  echo "gradle-consumer: SKIPPED: no gradle on this machine (apt-get install gradle)" >&2
  exit 0
fi
: "${JAVA_HOME:?JAVA_HOME must point to a JDK 25}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# --offline: the library comes from ~/.m2 and has no dependencies to fetch; --no-daemon: nothing
# of Gradle outlives the build (a daemon left running would hold a CI job open)
if ! gradle --offline -q --no-daemon --project-cache-dir "${TMPDIR:-/tmp}/flashattn4j-gradle-cache" \
    -Pflashattn4jVersion="$version" run >"$out" 2>&1; then
  cat "$out" >&2
  echo "gradle-consumer: FAILED: gradle run" >&2
  exit 1
fi
grep -q '^OK: ' "$out" || { cat "$out" >&2; echo "gradle-consumer: FAILED: no OK line" >&2; exit 1; }
if grep -q '^flashattn4j: module jdk.incubator.vector' "$out"; then
  cat "$out" >&2
  echo "gradle-consumer: FAILED: the SIMD kernels did not run (no --add-modules)" >&2
  exit 1
fi
echo "gradle-consumer: OK: $(gradle --version 2>/dev/null | grep '^Gradle') built and ran the README's Groovy build" >&2
