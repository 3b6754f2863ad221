package dev.flashattn4j.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The modules above core reach kernels through the engine only (docs/ARCHITECTURE.md): the CLI, the
 * pictures and the model use core's exported packages (api, values, config, tensor, cache,
 * reference, paper), never {@code kernel} or {@code internal}. Checked on their compiled classes,
 * which are all on this module's class path.
 */
class ArchitectureTest {

  @Test
  void cliVizAndModelUseOnlyWhatCoreExports() {
    JavaClasses above =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.flashattn4j.cli", "dev.flashattn4j.viz", "dev.flashattn4j.model");
    assertTrue(
        above.contain("dev.flashattn4j.cli.Main")
            && above.contain("dev.flashattn4j.model.Transformer")
            && above.contain("dev.flashattn4j.viz.AtomicFiles"),
        "imported " + above.size() + " classes");
    noClasses()
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.flashattn4j.kernel..", "dev.flashattn4j.internal..")
        .because("core exports its doors, values and configuration; kernels run behind the engine")
        .check(above);
  }
}
