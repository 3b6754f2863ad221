# FlashAttention4j. make test · make install · make demo · make bench · make release-check
SHELL := /bin/bash
JAVA_HOME := $(shell scripts/find-jdk.sh)
export JAVA_HOME
# Maven 3's own libraries call sun.misc.Unsafe, which JDK 25 warns about at every start. The flag
# that allows it exists only from JDK 23 on, so it is given here, where the JDK is known to be 25,
# and not in .mvn/jvm.config, which every JDK reads (an older one would not even start Maven).
export MAVEN_OPTS := $(strip $(MAVEN_OPTS) --sun-misc-unsafe-memory-access=allow)
MVN := mvn -B -ntp
VERSION := $(shell sed -n 's|^  <version>\(.*\)</version>$$|\1|p' pom.xml | head -1)

.PHONY: test install consumer check-old-jdk check-generated release-check demo bench build clean check-jdk

check-jdk:
	@test -n "$(JAVA_HOME)" || { scripts/find-jdk.sh >/dev/null; exit 1; }

## The whole test suite (all modules), then the library as a user gets it: installed into the
## local Maven repository and used by examples/consumer, and the build's message on an older JDK.
test: check-jdk check-generated
	$(MVN) install
	$(MAKE) --no-print-directory consumer check-old-jdk

## The libraries (core, model, viz, each with its sources and javadoc jars) into the local Maven
## repository.
install: check-jdk
	$(MVN) -pl core,model,viz -am -DskipTests install

## examples/consumer, built against the installed core and run three ways (see its run.sh), and
## examples/gradle-consumer, the README's Gradle build (skipped with one line without gradle).
consumer: check-jdk
	examples/consumer/run.sh $(VERSION)
	examples/gradle-consumer/run.sh $(VERSION)

## Generated-and-committed sources (PanelBlocks.java) equal what their generators write now.
check-generated:
	scripts/check-generated.sh

## Maven on a JDK older than 25 stops with the build's own message.
check-old-jdk:
	scripts/check-old-jdk.sh

## What Maven Central needs, checked: POM metadata, sources and javadoc jars, javadoc warnings.
release-check: check-jdk
	scripts/release-check.sh

## The seed notebook's example, through the launcher.
demo: check-jdk
	./flashattn demo

## The CLI jar and the JMH jar, without tests.
build: check-jdk
	$(MVN) -DskipTests package

## JMH benchmarks (each checks its result against the oracle first). ARGS passes JMH flags.
bench: check-jdk
	$(MVN) -q -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true -pl bench -am package
	$(JAVA_HOME)/bin/java --add-modules jdk.incubator.vector -jar bench/target/benchmarks.jar $(ARGS)

clean:
	$(MVN) -q clean
	rm -rf examples/consumer/target
