package dev.flashattn4j.bench;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The JMH benchmarks time kernels through the engine ({@code AttentionEngine.create} with a
 * configuration), never around it. Two measure core's internals on purpose and may use {@code
 * internal}: {@link ExpBenchmark} (the exp2 polynomial) and {@link FmaPeak} (the FMA rate the
 * figures are divided by).
 */
class ArchitectureTest {

  @Test
  void benchmarksReachKernelsThroughTheEngine() {
    JavaClasses bench =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.flashattn4j.bench");
    assertTrue(bench.contain("dev.flashattn4j.bench.ForwardBenchmark"), "" + bench.size());
    noClasses()
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.flashattn4j.kernel..")
        .check(bench);
    noClasses()
        .that()
        .haveNameNotMatching("dev\\.flashattn4j\\.bench\\.(ExpBenchmark|FmaPeak)(\\$.*)?")
        .and()
        .resideOutsideOfPackage("dev.flashattn4j.bench.jmh_generated")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.flashattn4j.internal..")
        .check(bench);
  }
}
