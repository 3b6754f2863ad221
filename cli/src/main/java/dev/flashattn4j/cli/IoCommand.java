package dev.flashattn4j.cli;

import dev.flashattn4j.paper.Algorithm1;
import dev.flashattn4j.paper.Algorithm4;
import dev.flashattn4j.paper.BlockSizes;
import dev.flashattn4j.paper.IoCounter;
import dev.flashattn4j.paper.IoModel;
import dev.flashattn4j.paper.IoTally;
import dev.flashattn4j.paper.StandardAttention;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code flashattn io}: HBM reads and writes of standard attention (the paper's Algorithm 0) and of
 * Algorithm 1, counted by running their loops on one head, next to the closed forms of {@link
 * IoModel}; {@code --sweep} prints HBM accesses against block size (the paper's Figure 2, middle).
 */
@Command(
    name = "io",
    mixinStandardHelpOptions = true,
    description = "Count the HBM traffic of standard attention and of Algorithm 1.")
public final class IoCommand implements Callable<Integer> {

  /** The most scores (N_q·N_k) the counted run materialises (standard attention stores S). */
  static final long MAX_SCORES = 1L << 24;

  /** The most multiply-adds (N_q·N_k·d) of a counted run, a few seconds. */
  static final long MAX_WORK = 1L << 32;

  @Spec CommandSpec spec;

  @Option(names = "--n", required = true, description = "N: rows of Q (and of K, V unless --nk).")
  int n;

  @Option(names = "--nk", description = "N_k: rows of K and V (default: N).")
  Integer nk;

  @Option(names = "--d", required = true, description = "d: the head dimension.")
  int d;

  @Option(names = "--sram", description = "M: the SRAM size in elements (needed unless --sweep).")
  Integer sram;

  @Option(names = "--sweep", description = "Print HBM accesses against block size B_c.")
  boolean sweep;

  @Option(
      names = "--backward",
      description =
          "Also count the backward passes: standard attention's (the paper's Algorithm 3) and"
              + " Algorithm 4 (Theorem 5).")
  boolean backward;

  // --plot: drawn by viz (IoPlot); kept apart from the counting above
  @Option(
      names = "--plot",
      paramLabel = "FILE.png",
      description =
          "Also draw HBM accesses of both algorithms against N (log-log) and against block size.")
  java.nio.file.Path plot;

  @Override
  public Integer call() {
    int keys = nk == null ? n : nk;
    if (n < 1 || keys < 1) {
      throw new BadInputException("--n and --nk must be at least 1, not " + n + " and " + keys);
    }
    if (d < 1) {
      throw new BadInputException("--d must be at least 1, not " + d);
    }
    if (sram == null && !sweep) {
      throw new BadInputException("--sram M is needed (or --sweep)");
    }
    BlockSizes blocks = sram == null ? null : BlockSizes.of(sram, d, n, keys); // checks M
    long scores = (long) n * keys;
    if (blocks != null && (scores > MAX_SCORES || scores * d > MAX_WORK)) {
      throw new BadInputException(
          String.format(
              "--n %d --nk %d --d %d is too large to count by running the loops (at most"
                  + " N_q·N_k = %d and N_q·N_k·d = %d); --sweep alone prints the closed forms",
              n, keys, d, MAX_SCORES, MAX_WORK));
    }
    if (plot != null) {
      Outputs.check(plot, "--plot", "png");
    }
    PrintWriter out = spec.commandLine().getOut();
    if (blocks != null) {
      report(out, blocks);
      if (backward) {
        reportBackward(out, blocks);
      }
    }
    if (sweep) {
      printSweep(out, sweepRows(n, keys, d));
    }
    if (plot != null) {
      IoPlot.write(n, keys, d, sram, plot);
      out.printf("wrote %s%n", plot);
    }
    out.flush();
    return 0;
  }

  /**
   * The rows of {@code --sweep}: the closed forms (equal to the counts, as the tests check) for B_c
   * = 1, 2, 4, … at fixed N_q, N_k, d, one head.
   */
  public static List<IoModel.SweepRow> sweepRows(int nq, int nk, int d) {
    return IoModel.sweep(1, nq, nk, d, d);
  }

  private void report(PrintWriter out, BlockSizes b) {
    SplittableRandom random = new SplittableRandom(1);
    Tensor q = uniform(random, b.nq());
    Tensor k = uniform(random, b.nk());
    Tensor v = uniform(random, b.nk());
    IoCounter flashCount = new IoCounter();
    Algorithm1.compute(q, k, v, AttentionOptions.DEFAULTS, b.sram(), flashCount, null);
    IoCounter standardCount = new IoCounter();
    StandardAttention.compute(q, k, v, AttentionOptions.DEFAULTS, standardCount);
    IoTally flash = flashCount.tally();
    IoTally flashModel = IoModel.algorithm1(1, b, d, d);
    IoTally standard = standardCount.tally();
    IoTally standardModel = IoModel.standard(1, b.nq(), b.nk(), d, d);

    out.printf(
        "HBM traffic in elements, one head: N_q = %d, N_k = %d, d = %d, M = %d%n%n",
        b.nq(), b.nk(), d, b.sram());
    out.println("Standard attention (the paper's Algorithm 0)");
    header(out);
    row(out, "1 read Q, K; write S", standard, standardModel, 1);
    row(out, "2 read S; write P", standard, standardModel, 2);
    row(out, "3 read P, V; write O", standard, standardModel, 3);
    totals(out, standard, standardModel);
    out.printf(
        "  peak SRAM %d elements (K, then V, kept on chip as the paper's count assumes)%n%n",
        standard.peakSram());

    out.printf("Algorithm 1 (FlashAttention): %s%n", b);
    header(out);
    row(out, "6 load K_j, V_j", flash, flashModel, 6);
    row(out, "8 load Q_i, O_i, l_i, m_i", flash, flashModel, 8);
    row(out, "12 write O_i", flash, flashModel, 12);
    row(out, "13 write l_i, m_i", flash, flashModel, 13);
    totals(out, flash, flashModel);
    out.printf(
        "  peak SRAM %d elements (M = %d: B_c = ⌈M/4d⌉ budgets K_j, V_j, Q_i, O_i;"
            + " S_ij and the row statistics come on top)%n%n",
        flash.peakSram(), b.sram());

    boolean exact = flash.equals(flashModel) && standard.equals(standardModel);
    double ratio = (double) standard.accesses() / flash.accesses();
    out.printf(
        Locale.ROOT,
        "Algorithm 1 makes %.2f× %s HBM accesses%s. Theorem 2: Θ(N²d²/M) = %.4g against"
            + " Θ(Nd + N²) = %.4g%n",
        ratio >= 1 ? ratio : 1 / ratio,
        ratio >= 1 ? "fewer" : "more",
        ratio >= 1 ? "" : " (this SRAM is too small for tiling to pay)",
        IoModel.theorem2Algorithm1(Math.max(b.nq(), b.nk()), d, b.sram()),
        IoModel.theorem2Standard(Math.max(b.nq(), b.nk()), d));
    out.println(exact ? "counted = closed form: yes" : "counted = closed form: NO");
  }

  private void reportBackward(PrintWriter out, BlockSizes b) {
    SplittableRandom random = new SplittableRandom(2);
    Tensor q = uniform(random, b.nq());
    Tensor k = uniform(random, b.nk());
    Tensor v = uniform(random, b.nk());
    Tensor dOut = uniform(random, b.nq());
    AttentionResult f = Algorithm1.compute(q, k, v, AttentionOptions.DEFAULTS, b.sram());
    IoCounter flashCount = new IoCounter();
    Algorithm4.compute(
        q, k, v, f.output(), f.lse(), dOut, AttentionOptions.DEFAULTS, b.sram(), flashCount);
    IoCounter standardCount = new IoCounter();
    StandardAttention.backward(q, k, v, dOut, AttentionOptions.DEFAULTS, standardCount);
    IoTally flash = flashCount.tally();
    IoTally flashModel = IoModel.algorithm4(1, b, d, d);
    IoTally standard = standardCount.tally();
    IoTally standardModel = IoModel.standardBackward(1, b.nq(), b.nk(), d, d);

    out.println("Standard attention's backward (the paper's Algorithm 3), from P and dO in HBM");
    header(out);
    row(out, "1 read P, dO; write dV", standard, standardModel, 1);
    row(out, "2 read dO, V; write dP", standard, standardModel, 2);
    row(out, "3 read P, dP; write dS", standard, standardModel, 3);
    row(out, "4 read dS, K; write dQ", standard, standardModel, 4);
    row(out, "5 read dS, Q; write dK", standard, standardModel, 5);
    totals(out, standard, standardModel);
    out.printf("  peak SRAM %d elements%n%n", standard.peakSram());

    out.printf("Algorithm 4 (FlashAttention's backward): %s%n", b);
    header(out);
    row(out, "7 load K_j, V_j", flash, flashModel, 7);
    row(out, "10 load Q_i, O_i, dO_i, dQ_i, l, m", flash, flashModel, 10);
    row(out, "21 write dQ_i", flash, flashModel, 21);
    row(out, "24 write dK_j, dV_j", flash, flashModel, 24);
    totals(out, flash, flashModel);
    out.printf("  peak SRAM %d elements%n%n", flash.peakSram());

    boolean exact = flash.equals(flashModel) && standard.equals(standardModel);
    double ratio = (double) standard.accesses() / flash.accesses();
    out.printf(
        Locale.ROOT,
        "Algorithm 4 makes %.2f× %s HBM accesses%s. Theorem 5: Θ(N²d²/M) = %.4g against"
            + " Θ(Nd + N²) = %.4g%n",
        ratio >= 1 ? ratio : 1 / ratio,
        ratio >= 1 ? "fewer" : "more",
        ratio >= 1 ? "" : " (this SRAM is too small for tiling to pay)",
        IoModel.theorem2Algorithm1(Math.max(b.nq(), b.nk()), d, b.sram()),
        IoModel.theorem2Standard(Math.max(b.nq(), b.nk()), d));
    out.println(exact ? "counted = closed form: yes" : "counted = closed form: NO");
  }

  private static void header(PrintWriter out) {
    out.printf(
        "  %-36s %14s %14s %14s %14s%n",
        "line", "reads", "(closed form)", "writes", "(closed form)");
  }

  private static void row(PrintWriter out, String name, IoTally c, IoTally m, int line) {
    out.printf(
        "  %-36s %14d %14d %14d %14d%n",
        name, c.reads(line), m.reads(line), c.writes(line), m.writes(line));
  }

  private static void totals(PrintWriter out, IoTally c, IoTally m) {
    out.printf(
        "  %-36s %14d %14d %14d %14d%n",
        "total", c.totalReads(), m.totalReads(), c.totalWrites(), m.totalWrites());
    out.printf("  %-36s %14d %14d%n", "HBM accesses", c.accesses(), m.accesses());
  }

  private void printSweep(PrintWriter out, List<IoModel.SweepRow> rows) {
    IoModel.SweepRow first = rows.getFirst();
    out.printf(
        "HBM accesses against block size (the paper's Figure 2, middle): N_q = %d, N_k = %d,"
            + " d = %d, one head, M = 4d·B_c%n",
        first.blocks().nq(), first.blocks().nk(), d);
    out.printf(
        "  %8s %6s %6s %6s %10s %16s %16s %8s%n",
        "B_c", "B_r", "T_r", "T_c", "M", "Algorithm 1", "standard", "ratio");
    for (IoModel.SweepRow r : rows) {
      BlockSizes b = r.blocks();
      out.printf(
          Locale.ROOT,
          "  %8d %6d %6d %6d %10d %16d %16d %8.2f%n",
          b.bc(),
          b.br(),
          b.tr(),
          b.tc(),
          b.sram(),
          r.algorithm1().accesses(),
          r.standard().accesses(),
          (double) r.standard().accesses() / r.algorithm1().accesses());
    }
  }

  private Tensor uniform(SplittableRandom random, int rows) {
    return Tensor.uniform(random, 0, 1, rows, d);
  }
}
