package dev.flashattn4j.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code flashattn animate matvec|schedule}: animated GIFs. */
@Command(
    name = "animate",
    mixinStandardHelpOptions = true,
    description =
        "Write an animated GIF: the seed's matrix-vector product, or Algorithm 1's tiling.",
    subcommands = {AnimateMatvecCommand.class, AnimateScheduleCommand.class})
public final class AnimateCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().getErr().println("error: animate needs what to animate: matvec or schedule");
    spec.commandLine().usage(spec.commandLine().getErr());
    return Main.EXIT_BAD_INPUT;
  }
}
