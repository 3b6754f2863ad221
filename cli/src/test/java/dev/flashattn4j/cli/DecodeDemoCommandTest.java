package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The worked example runs, checks every step, and reports errors under the budget. */
class DecodeDemoCommandTest {

  @Test
  void everyStepIsWithinTheBudget() {
    Cli r =
        Cli.run(
            "decode-demo",
            "--prompt",
            "40",
            "--steps",
            "6",
            "--heads",
            "8",
            "--kv-heads",
            "2",
            "--d",
            "24",
            "--batch",
            "3",
            "--page-size",
            "16",
            "--window",
            "30",
            "--softcap",
            "5",
            "--new-tokens",
            "2");
    assertEquals(0, r.exit(), r.out() + r.err());
    assertTrue(r.out().contains("checked 6 step(s) × 3 sequence(s)"), r.out());
    assertTrue(r.out().contains("every one within the error budget"), r.out());
    assertTrue(r.out().contains("prompts [40, 34, 27]"), r.out());
    // The worst error printed is under its budget.
    Matcher m = Pattern.compile("max\\|dO\\| = (\\S+) \\(budget (\\S+),").matcher(r.out());
    assertTrue(m.find(), r.out());
    assertTrue(Double.parseDouble(m.group(1)) <= Double.parseDouble(m.group(2)), r.out());
    // 3 sequences of up to 52 tokens in pages of 16: 4 + 3 + 3 pages, all in use
    assertTrue(r.out().contains("cache: 10 of 10 pages in use"), r.out());
  }

  @Test
  void float16Storage() {
    Cli r =
        Cli.run(
            "decode-demo",
            "--prompt",
            "20",
            "--steps",
            "3",
            "--heads",
            "4",
            "--kv-heads",
            "1",
            "--d",
            "16",
            "--float16");
    assertEquals(0, r.exit(), r.out() + r.err());
    assertTrue(r.out().contains("float16 cache"), r.out());
  }

  @Test
  void badFlagsExitTwoWithOneLine() {
    Cli r = Cli.run("decode-demo", "--heads", "6", "--kv-heads", "4");
    assertEquals(2, r.exit());
    assertEquals("error: --heads (6) must be a multiple of --kv-heads (4)", r.err().strip());
    assertEquals(2, Cli.run("decode-demo", "--softcap", "0").exit());
    assertEquals(2, Cli.run("decode-demo", "--batch", "0").exit());
  }
}
