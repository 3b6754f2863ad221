package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/FIRST_HOUR.md is run, not just read: every {@code ./flashattn} line of its shell blocks runs
 * here as a newcomer would type it (from the repository's root; /tmp/first-hour becomes a fresh
 * folder) and must exit 0, and every Java block must be, line for line, a region of a test class
 * the build compiles and runs.
 */
class FirstHourGuideTest {

  private static final Path ROOT = Path.of("..");
  private static final Path GUIDE = ROOT.resolve("docs/FIRST_HOUR.md");
  private static final List<Path> SNIPPETS =
      List.of(
          ROOT.resolve("core/src/test/java/dev/flashattn4j/snippets/CoreSnippetsTest.java"),
          ROOT.resolve("model/src/test/java/dev/flashattn4j/model/ModelSnippetsTest.java"));

  @TempDir Path tmp;

  /** The fenced blocks of one language, each as its lines. */
  static List<List<String>> blocks(List<String> lines, String language) {
    List<List<String>> blocks = new ArrayList<>();
    List<String> open = null;
    for (String line : lines) {
      if (open == null && line.strip().equals("```" + language)) {
        open = new ArrayList<>();
      } else if (open != null && line.strip().equals("```")) {
        blocks.add(open);
        open = null;
      } else if (open != null) {
        open.add(line);
      }
    }
    return blocks;
  }

  /** A command line split as a shell would: words, and "quoted words" kept whole. */
  static List<String> words(String line) {
    List<String> words = new ArrayList<>();
    StringBuilder w = new StringBuilder();
    boolean quoted = false;
    boolean any = false;
    for (char c : line.toCharArray()) {
      if (c == '"') {
        quoted = !quoted;
        any = true;
      } else if (c == ' ' && !quoted) {
        if (any) {
          words.add(w.toString());
        }
        w.setLength(0);
        any = false;
      } else {
        w.append(c);
        any = true;
      }
    }
    if (any) {
      words.add(w.toString());
    }
    return words;
  }

  @Test
  void everyCommandOfTheGuideRuns() throws IOException {
    List<String> commands = new ArrayList<>();
    for (List<String> block : blocks(Files.readAllLines(GUIDE), "sh")) {
      for (String line : block) {
        if (line.startsWith("./flashattn ")) {
          commands.add(line);
        }
      }
    }
    assertTrue(commands.size() >= 7, "the guide's commands: " + commands);
    Files.createDirectories(tmp.resolve("first-hour"));
    for (String line : commands) {
      List<String> args = new ArrayList<>();
      for (String w : words(line).subList(1, words(line).size())) {
        if (w.startsWith("/tmp/first-hour")) {
          w = tmp.resolve(w.substring("/tmp/".length())).toString();
        } else if (w.startsWith("core/") || w.startsWith("model/")) {
          w = ROOT.resolve(w).toString(); // the tests run in cli/, the guide from the root
        }
        args.add(w);
      }
      Cli r = Cli.run(args);
      assertEquals(0, r.exit(), line + "\n" + r);
    }
  }

  @Test
  void everyJavaBlockOfTheGuideIsCompiledAndRun() throws IOException {
    StringBuilder all = new StringBuilder();
    for (Path p : SNIPPETS) {
      if (Files.exists(p)) {
        all.append(stripped(Files.readAllLines(p))).append('\n');
      }
    }
    List<List<String>> java = blocks(Files.readAllLines(GUIDE), "java");
    assertTrue(java.size() >= 4, "the guide's Java blocks: " + java.size());
    for (List<String> block : java) {
      String text = stripped(block);
      assertTrue(
          all.indexOf(text) >= 0,
          "this block of docs/FIRST_HOUR.md is not a snippet region the build compiles:\n" + text);
    }
  }

  /** Issue 23: bench-decode was in --help but not in the README's table. */
  @Test
  void everyCommandIsInTheReadme() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"));
    for (String name : Main.commandLine().getSubcommands().keySet()) {
      if (!name.equals("help")) {
        assertTrue(readme.contains("`./flashattn " + name), name + " is not in README.md's table");
      }
    }
  }

  private static String stripped(List<String> lines) {
    return lines.stream()
        .map(String::strip)
        .filter(s -> !s.isEmpty())
        .collect(Collectors.joining("\n"));
  }
}
