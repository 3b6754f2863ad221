#!/usr/bin/env bash
# make release-check: is this tree ready for Maven Central? Builds every module with the
# release-check profile (enforcer rules in pom.xml: name, description, url, licence, developers,
# SCM, pinned plugin versions, no SNAPSHOT dependency in a release), which also builds the javadoc
# (failing on any warning); then checks that each published module attached a sources jar and a
# javadoc jar with the expected contents, that the unpublished ones skip deployment, and that
# CHANGELOG.md has a section for this version.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${JAVA_HOME:?JAVA_HOME must be a JDK 25 (the Makefile sets it)}"

published=(core model viz)
unpublished=(cli bench)
version=$(sed -n 's|^  <version>\(.*\)</version>$|\1|p' pom.xml | head -1)
problems=0
problem() { echo "release-check: $*" >&2; problems=$((problems + 1)); }

echo "release-check: building $version with -P release-check (javadoc fails on warnings)" >&2
mvn -B -ntp -q -P release-check -DskipTests package

for m in "${published[@]}"; do
  base="$m/target/flashattn4j-$m-$version"
  for kind in "" -sources -javadoc; do
    [ -s "$base$kind.jar" ] || problem "$m: $base$kind.jar is missing"
  done
  if [ -s "$base-sources.jar" ]; then
    n=$("$JAVA_HOME/bin/jar" tf "$base-sources.jar" | grep -c '\.java$' || true)
    [ "$n" -gt 0 ] || problem "$m: the sources jar holds no .java file"
  fi
  if [ -s "$base-javadoc.jar" ]; then
    "$JAVA_HOME/bin/jar" tf "$base-javadoc.jar" | grep -q 'index.html$' ||
      problem "$m: the javadoc jar has no index.html"
  fi
done
if [ -s "core/target/flashattn4j-core-$version-javadoc.jar" ]; then
  "$JAVA_HOME/bin/jar" tf "core/target/flashattn4j-core-$version-javadoc.jar" |
    grep -q 'dev/flashattn4j/api/Attention.html$' || problem "core: javadoc lacks api/Attention.html"
fi
for m in "${unpublished[@]}"; do
  grep -q '<maven.deploy.skip>true</maven.deploy.skip>' "$m/pom.xml" ||
    problem "$m: not a library, but its pom does not set maven.deploy.skip"
done
grep -q "^## \[${version%-SNAPSHOT}\]\|^## \[Unreleased\]" CHANGELOG.md ||
  problem "CHANGELOG.md has no section for ${version%-SNAPSHOT} (or Unreleased)"
[ -f LICENSE ] || problem "no LICENSE file"

if [ "$problems" -gt 0 ]; then
  echo "release-check: $problems problem(s)" >&2
  exit 1
fi
echo "release-check: OK: POM metadata, sources and javadoc jars of ${published[*]}, CHANGELOG" >&2
