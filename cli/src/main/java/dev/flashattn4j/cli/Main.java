package dev.flashattn4j.cli;

import dev.flashattn4j.cli.bench.Machine;
import dev.flashattn4j.config.MicroKernel;
import dev.flashattn4j.config.Vectors;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.UnmatchedArgumentException;

/** {@code ./flashattn}: the command-line front of FlashAttention4j. */
@Command(
    name = "flashattn",
    mixinStandardHelpOptions = true,
    version = "FlashAttention4j 0.1.0",
    description = "Exact, IO-aware attention for the JVM.",
    subcommands = {
      CommandLine.HelpCommand.class,
      DemoCommand.class,
      AttendCommand.class,
      GradCommand.class,
      TrainDemoCommand.class,
      VerifyCommand.class,
      IoCommand.class,
      BenchCommand.class,
      AnimateCommand.class,
      ExplainCommand.class,
      DecodeDemoCommand.class,
      BenchDecodeCommand.class,
      GenerateCommand.class,
      ServeCommand.class,
      BenchServeCommand.class
    })
public final class Main implements Runnable {

  /** Exit code of bad input (flags, files, shapes). */
  public static final int EXIT_BAD_INPUT = 2;

  /** Exit code of a check that failed (a result over the error budget). */
  public static final int EXIT_CHECK_FAILED = 1;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** A command line with the project's error handling, for {@link #main} and for tests. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    String kernels =
        "%nThis JVM: "
            + Machine.detectIsa()
            + "; "
            + Machine.kernels().replace("%", "%%")
            + ".%nPin them with FLASHATTN_JAVA_OPTS=\"-D"
            + Vectors.PROPERTY
            + "=0|128|256|512 -D"
            + MicroKernel.PROPERTY
            + "=6x2|4x4\".";
    cl.getCommandSpec().usageMessage().footer(kernels);
    cl.getSubcommands().get("bench").getCommandSpec().usageMessage().footer(kernels);
    cl.setParameterExceptionHandler(
        (ex, args) -> {
          // One line, as for every other bad input; the usage is one --help away.
          PrintWriter err = ex.getCommandLine().getErr();
          // a mistyped option also leaves a required one "missing": name the typo first
          List<String> unmatched =
              ex instanceof UnmatchedArgumentException u
                  ? u.getUnmatched()
                  : ex.getCommandLine().getUnmatchedArguments();
          String unknown = unknownWord(ex.getCommandLine(), unmatched);
          err.println(
              "error: "
                  + (unknown != null ? unknown : ex.getMessage())
                  + " (see: flashattn "
                  + commandPath(ex.getCommandLine())
                  + "--help)");
          err.flush();
          return EXIT_BAD_INPUT;
        });
    cl.setExecutionExceptionHandler(
        (ex, cmd, parseResult) -> {
          if (ex instanceof BadInputException
              || ex instanceof IllegalArgumentException
              || ex instanceof java.io.UncheckedIOException) {
            PrintWriter err = cmd.getErr();
            err.println("error: " + printable(ex.getMessage()));
            err.flush();
            return EXIT_BAD_INPUT;
          }
          throw ex;
        });
    return cl;
  }

  /**
   * "unknown command 'atend'; did you mean 'attend'?" for a word where a command was expected, the
   * same for an option; null for other unmatched arguments (picocli's message says it then).
   */
  static String unknownWord(CommandLine cmd, List<String> unmatched) {
    if (unmatched == null || unmatched.isEmpty()) {
      return null;
    }
    String word = unmatched.get(0);
    String kind;
    Collection<String> names;
    if (word.startsWith("-")) {
      int eq = word.indexOf('=');
      word = eq > 0 ? word.substring(0, eq) : word;
      kind = "option";
      names = new ArrayList<>();
      for (CommandLine.Model.OptionSpec o : cmd.getCommandSpec().options()) {
        names.addAll(List.of(o.names()));
      }
    } else if (!cmd.getSubcommands().isEmpty()
        && cmd.getCommandSpec().positionalParameters().isEmpty()) {
      kind = "command";
      names = cmd.getSubcommands().keySet();
    } else {
      return null;
    }
    String near = Suggest.closest(word, names);
    return "unknown "
        + kind
        + " '"
        + printable(word)
        + "'"
        + (near == null ? "" : "; did you mean '" + near + "'?");
  }

  private static String commandPath(CommandLine cmd) {
    String path = cmd.getCommandSpec().qualifiedName(" ");
    int space = path.indexOf(' ');
    return space < 0 ? "" : path.substring(space + 1) + " ";
  }

  public static void main(String[] args) {
    // DJL's tokenizers (generate): no telemetry ping, no download; its jar has the native library
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    int code;
    try {
      CommandLine cl = commandLine();
      code = checkOutput(cl.execute(args), cl.getOut(), System.out, System.err);
    } catch (IllegalArgumentException | ExceptionInInitializerError e) {
      // a bad -Dflashattn.* property, found when the kernels' settings are first read
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      System.err.println("error: " + printable(cause.getMessage()));
      code = EXIT_BAD_INPUT;
    } catch (OutOfMemoryError e) {
      System.err.printf(
          "error: out of memory (this JVM may use %d MiB): give it more with"
              + " FLASHATTN_JAVA_OPTS=-Xmx<size>, e.g. -Xmx8g%n",
          Runtime.getRuntime().maxMemory() >> 20);
      code = EXIT_BAD_INPUT;
    }
    System.exit(code);
  }

  /**
   * Exit 2 with one line when standard output could not be written (a full disk, a closed pipe):
   * what the command printed is incomplete, so it did not succeed. {@code PrintWriter} and {@code
   * PrintStream} swallow the error and only remember it; this asks them.
   */
  static int checkOutput(int code, PrintWriter out, PrintStream stdout, PrintStream err) {
    boolean failed = out.checkError() | stdout.checkError();
    if (failed && code == 0) {
      err.println("error: cannot write to standard output (a full disk or a closed pipe?)");
      err.flush();
      return EXIT_BAD_INPUT;
    }
    return code;
  }

  /**
   * A message as one printable line: control characters (a newline, ESC, NUL from a file's bytes)
   * become the escapes \n and \xNN, so that nothing a file holds reaches the terminal raw.
   */
  static String printable(String message) {
    if (message == null) {
      return "(no message)";
    }
    StringBuilder sb = new StringBuilder(message.length());
    for (int i = 0; i < message.length(); i++) {
      char c = message.charAt(i);
      if (c == '\n') {
        sb.append("\\n");
      } else if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0)) {
        sb.append(String.format("\\x%02x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /**
   * Whether standard error is a terminal, where a progress bar may redraw itself: the launcher says
   * so ({@code FLASHATTN_STDERR_TTY}, from {@code [ -t 2 ]}, since it pipes standard error through
   * a filter); run directly, the JVM's console says whether it is interactive.
   */
  static boolean stderrIsTerminal() {
    String launcher = System.getenv("FLASHATTN_STDERR_TTY");
    if (launcher != null) {
      return launcher.equals("1");
    }
    java.io.Console c = System.console();
    return c != null && c.isTerminal();
  }
}
