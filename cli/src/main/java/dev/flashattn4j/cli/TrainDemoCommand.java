package dev.flashattn4j.cli;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.cli.train.TinyTransformer;
import dev.flashattn4j.viz.chart.LossChart;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code train-demo}: trains the {@link TinyTransformer} through the library's backward pass and
 * prints its loss curve next to PyTorch's from the same seeded data and weights ({@code
 * scripts/train_tiny.py}).
 */
@Command(
    name = "train-demo",
    mixinStandardHelpOptions = true,
    description = {
      "Trains a one-layer causal attention model (token and position embeddings, one head of d = 32,"
          + " a linear head) with Adam to output the token two positions back, through the"
          + " library's forward and backward passes, and prints the loss of each step next to"
          + " PyTorch's on the same seeded data and initial weights (scripts/train_tiny.py).",
      "Exits 1 if the first 50 steps differ from PyTorch's by more than 1e-4 (relative)."
    })
final class TrainDemoCommand implements Callable<Integer> {

  /** The steps compared with PyTorch's curve, and the tolerance. */
  static final int COMPARED = 50;

  static final double TOLERANCE = 1e-4;

  @Option(
      names = "--steps",
      defaultValue = "300",
      description = "training steps (default ${DEFAULT-VALUE}; PyTorch's curve has 300)")
  int steps;

  @Option(names = "--threads", paramLabel = "T", description = "threads (default: all cores)")
  Integer threads;

  @Option(names = "--every", defaultValue = "10", description = "print every this many steps")
  int every;

  @Option(
      names = "--plot",
      paramLabel = "FILE.png",
      description = "also draw both loss curves against step")
  java.nio.file.Path plot;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    if (steps < 1 || every < 1) {
      throw new BadInputException("--steps and --every must be at least 1");
    }
    int t =
        threads == null
            ? Runtime.getRuntime().availableProcessors()
            : ThreadCount.check("--threads", threads);
    if (plot != null) {
      Outputs.check(plot, "--plot", "png");
    }
    List<Double> torch = torchCurve();
    List<Double> ours = new ArrayList<>();
    PrintWriter out = spec.commandLine().getOut();
    out.printf(
        "one attention layer (d = %d, causal), vocabulary %d, sequences of %d, batch %d, Adam lr %s;"
            + " task: y_t = x_{t-2}%n",
        TinyTransformer.DIM,
        TinyTransformer.VOCAB,
        TinyTransformer.SEQ,
        TinyTransformer.BATCH,
        TinyTransformer.LR);
    out.printf("%6s %14s %14s %10s%n", "step", "loss (Java)", "loss (PyTorch)", "rel. diff");
    double worst = 0;
    float loss = Float.NaN;
    try (AttentionEngine engine = AttentionEngine.create(t)) {
      TinyTransformer model = new TinyTransformer(engine);
      for (int s = 1; s <= steps; s++) {
        loss = model.step();
        ours.add((double) loss);
        Double ref = s <= torch.size() ? torch.get(s - 1) : null;
        double rel = ref == null ? Double.NaN : Math.abs(loss - ref) / Math.abs(ref);
        if (s <= COMPARED && ref != null) {
          worst = Math.max(worst, rel);
        }
        if (s == 1 || s % every == 0 || s == steps) {
          out.printf(
              Locale.ROOT,
              "%6d %14.6f %14s %10s%n",
              s,
              loss,
              ref == null ? "" : String.format(Locale.ROOT, "%.6f", ref),
              ref == null ? "" : String.format(Locale.ROOT, "%.1e", rel));
        }
      }
      out.printf(
          Locale.ROOT,
          "final loss %.6f, accuracy %.3f on the last batch; first %d steps against PyTorch: max"
              + " relative difference %.2e (tolerance %.0e)%n",
          loss,
          model.accuracy(),
          Math.min(COMPARED, steps),
          worst,
          TOLERANCE);
    }
    if (plot != null) {
      Outputs.write(
          plot,
          () ->
              LossChart.write(
                  ours,
                  "FlashAttention4j (Java)",
                  torch.subList(0, Math.min(torch.size(), ours.size())),
                  "PyTorch 2.13 (scripts/train_tiny.py)",
                  "one causal attention layer, d = 32, Adam; the same seeded data and weights",
                  plot));
      out.printf("wrote %s%n", plot);
    }
    out.flush();
    return worst <= TOLERANCE ? 0 : Main.EXIT_CHECK_FAILED;
  }

  /** PyTorch's loss of each step, saved by scripts/train_tiny.py. */
  static List<Double> torchCurve() {
    List<Double> curve = new ArrayList<>();
    try (InputStream in = TinyTransformer.class.getResourceAsStream("torch_loss.txt");
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (!line.isBlank()) {
          curve.add(Double.parseDouble(line.strip()));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return curve;
  }
}
