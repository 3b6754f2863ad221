package dev.flashattn4j;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layers of core (docs/ARCHITECTURE.md), checked on the compiled classes: arrows point one way,
 * api → kernel → values and config, never back. A kernel that imported the front door, or a value
 * type that imported a kernel, fails here with the offending class and line.
 */
class ArchitectureTest {

  private static JavaClasses core;

  @BeforeAll
  static void importCore() {
    core =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.flashattn4j");
    // a rule over no classes passes: make sure the kernels are there to be checked
    org.junit.jupiter.api.Assertions.assertTrue(
        core.contain("dev.flashattn4j.kernel.FlashForward") && core.size() > 100,
        "imported " + core.size() + " classes");
  }

  @Test
  void onlyTheFrontDoorUsesTheFrontDoor() {
    noClasses()
        .that()
        .resideOutsideOfPackage("dev.flashattn4j.api")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.flashattn4j.api")
        .because("the api package is the top layer: kernels are called by it, never call it")
        .check(core);
  }

  @Test
  void kernelsAreReachedOnlyThroughTheEngine() {
    noClasses()
        .that()
        .resideOutsideOfPackages("dev.flashattn4j.api", "dev.flashattn4j.kernel..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.flashattn4j.kernel..")
        .because("the oracle, the paper's algorithms, the cache and the values do not run kernels")
        .check(core);
  }

  @Test
  void valuesAndConfigurationAreTheBottom() {
    noClasses()
        .that()
        .resideInAnyPackage("dev.flashattn4j.values", "dev.flashattn4j.config")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.flashattn4j.api",
            "dev.flashattn4j.kernel..",
            "dev.flashattn4j.cache",
            "dev.flashattn4j.reference",
            "dev.flashattn4j.paper")
        .check(core);
  }

  @Test
  void tensorsAndInternalsDependOnNoLayer() {
    noClasses()
        .that()
        .resideInAnyPackage("dev.flashattn4j.tensor", "dev.flashattn4j.internal")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.flashattn4j.api",
            "dev.flashattn4j.kernel..",
            "dev.flashattn4j.values",
            "dev.flashattn4j.config",
            "dev.flashattn4j.cache",
            "dev.flashattn4j.reference",
            "dev.flashattn4j.paper")
        .check(core);
  }

  @Test
  void packagesHaveNoCycles() {
    slices().matching("dev.flashattn4j.(**)").should().beFreeOfCycles().check(core);
  }
}
