package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class DemoCommandTest {

  @Test
  void printsTheSeedsBlocksBothOutputsAndASmallDifference() {
    Run r = Run.of("demo");
    assertEquals(0, r.exitCode(), r.err());
    assertTrue(r.out().contains("B_c = ⌈M/4d⌉      = 2"), r.out());
    assertTrue(r.out().contains("B_r = min(B_c, d) = 2"), r.out());
    assertTrue(r.out().contains("T_r = ⌈N/B_r⌉     = 3"), r.out());
    assertTrue(r.out().contains("T_c = ⌈N/B_c⌉     = 3"), r.out());
    assertTrue(r.out().contains("FlashAttention output"));
    assertTrue(r.out().contains("Vanilla attention output"));
    Matcher m = Pattern.compile("max \\|FlashAttention − vanilla\\| = (\\S+)").matcher(r.out());
    assertTrue(m.find(), r.out());
    assertTrue(Double.parseDouble(m.group(1)) <= 1e-6);
    // two 6 × 3 matrices, equal to six places
    Matcher rows = Pattern.compile("(?m)^  \\[(.*)]$").matcher(r.out());
    String[] seen = new String[12];
    int n = 0;
    while (rows.find()) {
      seen[n++] = rows.group(1);
    }
    assertEquals(12, n);
    for (int i = 0; i < 6; i++) {
      assertEquals(seen[i], seen[i + 6]);
    }
    Matcher gap = Pattern.compile("differ by up to (\\S+):").matcher(r.out());
    assertTrue(gap.find(), r.out());
    assertTrue(Double.parseDouble(gap.group(1)) > 1e-3, "scale 1 vs 1/√d must differ");
    assertTrue(r.out().contains("1/√d = 0.5774"));
  }

  @Test
  void anotherSeedGivesOtherNumbersAndStillPasses() {
    Run a = Run.of("demo", "--seed", "7");
    Run b = Run.of("demo");
    assertEquals(0, a.exitCode());
    assertTrue(!a.out().equals(b.out()));
  }

  @Test
  void badFlagExitsTwo() {
    Run r = Run.of("demo", "--seed", "x");
    assertEquals(2, r.exitCode());
  }
}
