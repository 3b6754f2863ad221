#!/usr/bin/env bash
# Prints the home of a JDK 25 or newer: JAVA_HOME when it is one, else the newest
# /usr/lib/jvm/*25* (then any /usr/lib/jvm/* of 25 or newer). Exits 1 with a clear message
# on stderr when there is none. Used by ./flashattn, the Makefile and .ci/run.
set -u

feature_version() { # JAVA_HOME -> feature version (17, 25, ...) or nothing
  local v
  v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 |
    awk -F' = ' '/java.specification.version/ {print $2; exit}')
  echo "${v%%.*}"
}

is_25_or_newer() {
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
  local v
  v=$(feature_version "$1")
  [ -n "$v" ] && [ "$v" -ge 25 ] 2>/dev/null
}

if [ -n "${JAVA_HOME:-}" ] && is_25_or_newer "$JAVA_HOME"; then
  echo "$JAVA_HOME"
  exit 0
fi
for pattern in '/usr/lib/jvm/*25*' '/usr/lib/jvm/*'; do
  for home in $(ls -d $pattern 2>/dev/null | sort -rV); do
    if is_25_or_newer "$home"; then
      echo "$home"
      exit 0
    fi
  done
done
{
  echo "flashattn: no JDK 25 or newer found."
  [ -n "${JAVA_HOME:-}" ] && echo "  JAVA_HOME=$JAVA_HOME is not a JDK 25+."
  echo "  Install one (e.g. Temurin 25 under /usr/lib/jvm) or set JAVA_HOME to it."
} >&2
exit 1
