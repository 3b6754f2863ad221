#!/usr/bin/env bash
# Checks that Maven started on a JDK older than 25 gets the build's own one-line message ("needs
# JDK 25 or newer", from the enforcer rule in pom.xml) rather than a JVM that will not start
# (a JDK-25-only flag in .mvn/jvm.config did that once). Uses the first JDK older than 25 it finds:
# `java` on the PATH, else /usr/lib/jvm/*; says so and passes when there is none.
set -uo pipefail
cd "$(dirname "$0")/.."

feature_version() { # JAVA_HOME -> 17, 25, ...
  "$1/bin/java" -XshowSettings:properties -version 2>&1 |
    awk -F' = ' '/java.specification.version/ {print $2; exit}' | sed 's/^1\.//; s/\..*//'
}

old=""
candidates=()
if command -v java >/dev/null; then
  candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
fi
for home in /usr/lib/jvm/*; do candidates+=("$home"); done
for home in "${candidates[@]}"; do
  [ -x "$home/bin/java" ] || continue
  v=$(feature_version "$home")
  if [ -n "$v" ] && [ "$v" -lt 25 ] 2>/dev/null; then
    old=$home
    break
  fi
done
if [ -z "$old" ]; then
  echo "check-old-jdk: no JDK older than 25 here; nothing to check" >&2
  exit 0
fi

# the JDK-25-only flag the Makefile adds for its own Maven runs would stop this JVM: drop it
opts="${MAVEN_OPTS:-}"
opts="${opts//--sun-misc-unsafe-memory-access=allow/}"
out=$(JAVA_HOME="$old" MAVEN_OPTS="$opts" mvn -B -ntp -q -N validate 2>&1)
status=$?
if [ $status -eq 0 ]; then
  echo "check-old-jdk: FAILED: Maven on $old passed validate; it should refuse a JDK < 25" >&2
  exit 1
fi
if ! grep -q "FlashAttention4j needs JDK 25 or newer" <<<"$out"; then
  echo "check-old-jdk: FAILED: Maven on $old did not give the build's message:" >&2
  echo "$out" >&2
  exit 1
fi
echo "check-old-jdk: Maven on JDK $(feature_version "$old") ($old) stops with the build's message: OK" >&2
