# FlashAttention4j. make test · make demo · make bench
SHELL := /bin/bash
JAVA_HOME := $(shell scripts/find-jdk.sh)
export JAVA_HOME
MVN := mvn -B -ntp

.PHONY: test demo bench build clean check-jdk

check-jdk:
	@test -n "$(JAVA_HOME)" || { scripts/find-jdk.sh >/dev/null; exit 1; }

## The whole test suite (all modules).
test: check-jdk
	$(MVN) verify

## The seed notebook's example, through the launcher.
demo: check-jdk
	./flashattn demo

## The CLI jar and the JMH jar, without tests.
build: check-jdk
	$(MVN) -DskipTests package

## JMH benchmarks (each checks its result against the oracle first). ARGS passes JMH flags.
bench: check-jdk
	$(MVN) -q -DskipTests -pl bench -am package
	$(JAVA_HOME)/bin/java --add-modules jdk.incubator.vector -jar bench/target/benchmarks.jar $(ARGS)

clean:
	$(MVN) -q clean
