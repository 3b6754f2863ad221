package dev.flashattn4j.cli;

import dev.flashattn4j.paper.BlockSizes;
import dev.flashattn4j.values.Causal;
import dev.flashattn4j.values.Window;
import dev.flashattn4j.viz.schedule.FastSchedule;
import dev.flashattn4j.viz.schedule.PaperSchedule;
import dev.flashattn4j.viz.schedule.ScheduleSetup;
import dev.flashattn4j.viz.schedule.ScheduleTrace;
import picocli.CommandLine.Option;

/**
 * The flags of {@code animate schedule} and {@code explain}: the run to draw (the seed notebook's
 * example by default, with {@code demo}'s Q, K, V), its causal mask and window, and the loop order.
 */
final class ScheduleOptions {

  /** The largest N and d drawn (cells would be under two pixels beyond). */
  static final int MAX_N = 256;

  static final int MAX_D = 128;

  @Option(names = "--n", description = "N: rows of Q, K, V (default: ${DEFAULT-VALUE}).")
  int n = 6;

  @Option(names = "--d", description = "d: the head dimension (default: ${DEFAULT-VALUE}).")
  int d = 3;

  @Option(
      names = "--sram",
      paramLabel = "M",
      description = "M: the SRAM size in elements, at least 4d (default: ${DEFAULT-VALUE}).")
  int sram = 24;

  @Option(
      names = "--seed",
      description = "Seed of the random Q, K, V, as in demo (default: ${DEFAULT-VALUE}).")
  long seed = 2022;

  @Option(
      names = "--scale",
      description =
          "The factor on QKᵀ (default: ${DEFAULT-VALUE}, the seed notebook's; 1/√d is PyTorch's).")
  float scale = 1f;

  @Option(
      names = "--causal",
      paramLabel = "ALIGN",
      description =
          "top-left (query i sees keys j ≤ i) or bottom-right: the tiles no row sees are drawn"
              + " (skipped by the fast order), the diagonal tiles cut element by element.")
  String causal;

  @Option(
      names = "--window",
      paramLabel = "LEFT,RIGHT",
      description =
          "a sliding window: query i sees keys i − LEFT ≤ j ≤ i + RIGHT (-1 = unbounded), as"
              + " attend's --window.")
  String window;

  @Option(
      names = "--kernel",
      description =
          "paper: Algorithm 1's order (K/V blocks outside), the real run; fast: the fast kernel's"
              + " order (Q blocks outside, FlashAttention-2), modelled with the same block sizes"
              + " (default: ${DEFAULT-VALUE}).")
  String kernel = "paper";

  /** Checks the flags, naming the one that is wrong, before any work. */
  ScheduleSetup setup(int maxSteps) {
    if (n < 1 || n > MAX_N) {
      throw new BadInputException("--n must be between 1 and " + MAX_N + ", not " + n);
    }
    if (d < 1 || d > MAX_D) {
      throw new BadInputException("--d must be between 1 and " + MAX_D + ", not " + d);
    }
    if (sram < BlockSizes.minimumSram(d)) {
      throw new BadInputException(
          "--sram "
              + sram
              + " is too small for --d "
              + d
              + ": Algorithm 1 needs M >= 4d = "
              + BlockSizes.minimumSram(d));
    }
    if (!(scale > 0 && Float.isFinite(scale))) {
      throw new BadInputException("--scale must be positive and finite, not " + scale);
    }
    if (!kernel.equals("paper") && !kernel.equals("fast")) {
      throw new BadInputException("--kernel must be paper or fast, not " + kernel);
    }
    BlockSizes b = BlockSizes.of(sram, d, n, n);
    long steps = (long) b.tr() * b.tc();
    if (steps > maxSteps) {
      throw new BadInputException(
          String.format(
              "--n %d --sram %d gives %d steps (T_r = %d × T_c = %d), more than the %d this"
                  + " picture shows: raise --sram (bigger blocks, fewer steps) or lower --n",
              n, sram, steps, b.tr(), b.tc(), maxSteps));
    }
    return new ScheduleSetup(
        n,
        d,
        sram,
        seed,
        scale,
        causal == null ? Causal.NONE : AttentionInputs.parseCausal(causal),
        window == null ? Window.NONE : AttentionInputs.parseWindow(window));
  }

  /** The trace of the chosen loop order. */
  ScheduleTrace run(ScheduleSetup setup) {
    return kernel.equals("fast") ? FastSchedule.run(setup) : PaperSchedule.run(setup);
  }
}
