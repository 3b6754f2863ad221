/** JMH benchmarks; each checks its result against the oracle before it measures. */
package dev.flashattn4j.bench;
