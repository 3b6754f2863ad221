package dev.flashattn4j.cli;

import dev.flashattn4j.paper.Algorithm1;
import dev.flashattn4j.paper.BlockSizes;
import dev.flashattn4j.reference.ErrorBudget;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code flashattn demo}: the seed notebook's example. N = 6, d = 3, M = 24, Q, K, V uniform in [0,
 * 1) like {@code np.random.rand}, scale 1 as in the seed; prints the block sizes, Algorithm 1's
 * output, vanilla attention's output and their largest difference (exit 1 when it is over 1e-6).
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Run the seed notebook's example: Algorithm 1 against vanilla attention.")
public final class DemoCommand implements Callable<Integer> {

  /** N, d and M of the seed notebook. */
  static final int N = 6;

  static final int D = 3;
  static final int SRAM = 24;

  /** The largest |FlashAttention − vanilla| the demo accepts. */
  static final double LIMIT = 1e-6;

  @Spec CommandSpec spec;

  @Option(names = "--seed", description = "Seed of the random Q, K, V (default: ${DEFAULT-VALUE}).")
  long seed = 2022;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    SplittableRandom random = new SplittableRandom(seed);
    Tensor q = rand(random);
    Tensor k = rand(random);
    Tensor v = rand(random);
    AttentionOptions seedScale = AttentionOptions.builder().scale(1f).build();
    BlockSizes b = BlockSizes.of(SRAM, D, N, N);
    AttentionResult flash = Algorithm1.compute(q, k, v, seedScale, SRAM);
    AttentionResult vanilla = NaiveAttention.compute(q, k, v, seedScale);
    double diff = ErrorBudget.Errors.of(flash.output(), vanilla.output()).maxAbs();
    AttentionResult torchDefault = NaiveAttention.compute(q, k, v, AttentionOptions.DEFAULTS);
    double scaleGap = ErrorBudget.Errors.of(torchDefault.output(), vanilla.output()).maxAbs();

    out.println("FlashAttention (the paper's Algorithm 1) on the seed notebook's example");
    out.printf(
        "  N = %d, d = %d, SRAM M = %d floats; Q, K, V uniform in [0, 1) (seed %d); scale 1%n%n",
        N, D, SRAM, seed);
    out.println("Block sizes (Algorithm 1, lines 1 and 3)");
    out.printf("  B_c = ⌈M/4d⌉      = %d%n", b.bc());
    out.printf("  B_r = min(B_c, d) = %d%n", b.br());
    out.printf("  T_r = ⌈N/B_r⌉     = %d   blocks of Q, O, ℓ, m%n", b.tr());
    out.printf("  T_c = ⌈N/B_c⌉     = %d   blocks of K, V%n%n", b.tc());
    out.printf(
        "FlashAttention output O (%d × %d tiles of S, never the whole N × N)%n", b.tr(), b.tc());
    printMatrix(out, flash.output());
    out.println("Vanilla attention output softmax(QKᵀ)V (S and P materialised)");
    printMatrix(out, vanilla.output());
    boolean ok = diff <= LIMIT;
    out.printf(
        Locale.ROOT,
        "max |FlashAttention − vanilla| = %.3g   (%s 1e-6: %s)%n%n",
        diff,
        ok ? "≤" : ">",
        ok ? "exact up to float32 rounding" : "FAILED");
    out.println("A note on the scale");
    out.println("  The seed computes softmax(QKᵀ)V, i.e. scale 1, while PyTorch's");
    out.printf(
        Locale.ROOT,
        "  scaled_dot_product_attention uses 1/√d = %.4f by default. On this example the two%n",
        1 / Math.sqrt(D));
    out.printf(
        Locale.ROOT,
        "  outputs differ by up to %.3g: compare with PyTorch's scale=1 (or scale both).%n",
        scaleGap);
    out.flush();
    return ok ? 0 : Main.EXIT_CHECK_FAILED;
  }

  /** An (N, d) tensor uniform in [0, 1), like {@code np.random.rand(N, d)}. */
  private static Tensor rand(SplittableRandom random) {
    return Tensor.uniform(random, 0, 1, N, D);
  }

  private static void printMatrix(PrintWriter out, Tensor t) {
    for (int r = 0; r < t.rows(); r++) {
      StringBuilder line = new StringBuilder("  [");
      for (int c = 0; c < t.cols(); c++) {
        line.append(String.format(Locale.ROOT, c == 0 ? "%.6f" : "  %.6f", t.get(0, 0, r, c)));
      }
      out.println(line.append(']'));
    }
    out.println();
  }
}
