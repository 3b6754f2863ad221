package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.paper.IoModel;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class IoCommandTest {

  /** The four numbers of a table row: reads, closed form, writes, closed form. */
  private static long[] row(String out, String name) {
    Matcher m =
        Pattern.compile(
                "(?m)^  " + Pattern.quote(name) + "\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)$")
            .matcher(out);
    assertTrue(m.find(), name + " in\n" + out);
    return new long[] {
      Long.parseLong(m.group(1)),
      Long.parseLong(m.group(2)),
      Long.parseLong(m.group(3)),
      Long.parseLong(m.group(4))
    };
  }

  @Test
  void paperSizesPrintExactCountsOfBothAlgorithms() {
    Run r = Run.of("io", "--n", "1024", "--d", "64", "--sram", "100000");
    assertEquals(0, r.exitCode(), r.err());
    String out = r.out();
    // standard: Q, K in (2Nd), S out (N²); S in, P out; P in + V in (N² + Nd), O out (Nd)
    long n = 1024;
    long d = 64;
    assertEquals(
        List.of(2 * n * d, 2 * n * d, n * n, n * n), asList(row(out, "1 read Q, K; write S")));
    assertEquals(List.of(n * n, n * n, n * n, n * n), asList(row(out, "2 read S; write P")));
    assertEquals(
        List.of(n * n + n * d, n * n + n * d, n * d, n * d),
        asList(row(out, "3 read P, V; write O")));
    // Algorithm 1: B_c = ⌈100000/256⌉ = 391, B_r = 64, T_c = ⌈1024/391⌉ = 3
    assertTrue(out.contains("B_c=391, B_r=64, T_r=16, T_c=3"), out);
    assertEquals(List.of(2 * n * d, 2 * n * d, 0L, 0L), asList(row(out, "6 load K_j, V_j")));
    long l8 = 3 * n * (2 * d + 2);
    assertEquals(List.of(l8, l8, 0L, 0L), asList(row(out, "8 load Q_i, O_i, l_i, m_i")));
    assertEquals(List.of(0L, 0L, 3 * n * d, 3 * n * d), asList(row(out, "12 write O_i")));
    assertEquals(List.of(0L, 0L, 6 * n, 6 * n), asList(row(out, "13 write l_i, m_i")));
    assertTrue(out.matches("(?s).*HBM accesses +733184 +733184\n.*"), out);
    assertTrue(out.contains("counted = closed form: yes"));
  }

  @Test
  void backwardCountsBothBackwardPassesAsTheClosedForms() {
    Run r = Run.of("io", "--n", "7", "--nk", "10", "--d", "3", "--sram", "25", "--backward");
    assertEquals(0, r.exitCode(), r.err());
    String out = r.out();
    // T_c = 4: line 10 loads Q_i, O_i, dO_i, dQ_i (4d) and l_i, m_i (2) for each row, once per j
    assertEquals(
        List.of(4L * 7 * (4 * 3 + 2), 4L * 7 * (4 * 3 + 2), 0L, 0L),
        asList(row(out, "10 load Q_i, O_i, dO_i, dQ_i, l, m")));
    assertEquals(List.of(0L, 0L, 4L * 7 * 3, 4L * 7 * 3), asList(row(out, "21 write dQ_i")));
    assertEquals(List.of(0L, 0L, 10L * 6, 10L * 6), asList(row(out, "24 write dK_j, dV_j")));
    // standard: P (N_q·N_k) and dO in, dV out
    assertEquals(
        List.of(70L + 7 * 3, 70L + 7 * 3, 10L * 3, 10L * 3),
        asList(row(out, "1 read P, dO; write dV")));
    assertEquals(2, out.split("counted = closed form: yes", -1).length - 1, out);
  }

  @Test
  void unequalKeysAndUnevenBlocks() {
    Run r = Run.of("io", "--n", "7", "--nk", "10", "--d", "3", "--sram", "25");
    assertEquals(0, r.exitCode(), r.err());
    assertTrue(r.out().contains("B_c=3, B_r=3, T_r=3, T_c=4"), r.out());
    assertEquals(
        List.of(4L * 7 * 8, 4L * 7 * 8, 0L, 0L), asList(row(r.out(), "8 load Q_i, O_i, l_i, m_i")));
    assertTrue(r.out().contains("counted = closed form: yes"));
  }

  @Test
  void sweepPrintsAccessesAgainstBlockSize() {
    Run r = Run.of("io", "--n", "256", "--d", "16", "--sweep");
    assertEquals(0, r.exitCode(), r.err());
    List<IoModel.SweepRow> rows = IoCommand.sweepRows(256, 256, 16);
    assertEquals(9, rows.size()); // B_c = 1 … 256
    for (IoModel.SweepRow row : rows) {
      String line =
          String.format(
              "%8d %6d %6d %6d %10d %16d %16d",
              row.blocks().bc(),
              row.blocks().br(),
              row.blocks().tr(),
              row.blocks().tc(),
              row.blocks().sram(),
              row.algorithm1().accesses(),
              row.standard().accesses());
      assertTrue(r.out().contains(line), line + "\n" + r.out());
    }
    for (int i = 1; i < rows.size(); i++) {
      assertTrue(rows.get(i).algorithm1().accesses() < rows.get(i - 1).algorithm1().accesses());
    }
    assertTrue(
        !r.out().contains("Algorithm 1 (FlashAttention)"), "no single-M report without --sram");
  }

  @Test
  void badFlagsExitTwoWithOneLine() {
    for (String[] args :
        new String[][] {
          {"io", "--n", "0", "--d", "3", "--sram", "24"},
          {"io", "--n", "6", "--d", "0", "--sram", "24"},
          {"io", "--n", "6", "--nk", "-1", "--d", "3", "--sram", "24"},
          {"io", "--n", "6", "--d", "3", "--sram", "11"},
          {"io", "--n", "6", "--d", "3"},
          {"io", "--n", "8192", "--d", "64", "--sram", "100000"},
        }) {
      Run r = Run.of(args);
      assertEquals(2, r.exitCode(), String.join(" ", args));
      assertEquals(1, r.err().strip().lines().count(), r.err());
      assertTrue(r.err().startsWith("error: "), r.err());
      assertEquals("", r.out());
    }
    Run small = Run.of("io", "--n", "6", "--d", "3", "--sram", "11");
    assertTrue(small.err().contains("M = 11") && small.err().contains("12"), small.err());
  }

  @Test
  void sweepAloneReachesSizesTooLargeToRun() {
    Run r = Run.of("io", "--n", "65536", "--d", "128", "--sweep");
    assertEquals(0, r.exitCode(), r.err());
    assertTrue(r.out().contains("N_q = 65536"), r.out());
  }

  private static List<Long> asList(long[] a) {
    return java.util.Arrays.stream(a).boxed().toList();
  }
}
