package dev.flashattn4j.cli;

import dev.flashattn4j.bench.FmaPeak;
import dev.flashattn4j.cli.bench.BenchCase;
import dev.flashattn4j.cli.bench.BenchReport;
import dev.flashattn4j.cli.bench.BenchRow;
import dev.flashattn4j.cli.bench.BenchRunner;
import dev.flashattn4j.cli.bench.Machine;
import dev.flashattn4j.values.Causal;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code flashattn bench}: times the kernels on random inputs, with a progress bar, and prints a
 * table of median time, GFLOP/s and the share of this machine's FMA peak (measured in the same
 * run), with the machine, JDK and vector width; {@code --csv} writes the same rows.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Time the attention kernels and compare them with this machine's FMA peak.")
public final class BenchCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--n",
      split = ",",
      defaultValue = "1024,4096",
      description = "N = N_q = N_k values (default ${DEFAULT-VALUE}).")
  List<Integer> ns;

  @Option(
      names = "--d",
      split = ",",
      defaultValue = "64",
      description = "head dimensions (default ${DEFAULT-VALUE}).")
  List<Integer> ds;

  @Option(names = "--heads", defaultValue = "8", description = "H (default ${DEFAULT-VALUE}).")
  int heads;

  @Option(names = "--batch", defaultValue = "1", description = "B (default ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--causal",
      defaultValue = "both",
      description =
          "none, top-left, bottom-right or both (none and top-left; default ${DEFAULT-VALUE}).")
  String causal;

  @Option(
      names = "--threads",
      split = ",",
      description = "thread counts (default: 1 and all cores).")
  List<Integer> threads;

  @Option(
      names = "--kernel",
      split = ",",
      defaultValue = "fast,paper,naive",
      description = "kernels: fast, paper, naive (default ${DEFAULT-VALUE}).")
  List<String> kernels;

  @Option(
      names = "--warmup",
      defaultValue = "2",
      description =
          "at least this many untimed calls first, then on until the timings settle (default ${DEFAULT-VALUE}).")
  int warmup;

  @Option(
      names = "--iters",
      defaultValue = "5",
      description = "timed calls; the median is reported (default ${DEFAULT-VALUE}).")
  int iters;

  @Option(
      names = "--slow-limit",
      defaultValue = "3",
      paramLabel = "GFLOP",
      description =
          "paper and naive run only on cases of at most this many GFLOP (default ${DEFAULT-VALUE}).")
  double slowLimit;

  @Option(names = "--csv", paramLabel = "FILE", description = "also write the rows as CSV.")
  Path csv;

  @Option(
      names = "--shuffle",
      paramLabel = "SEED",
      defaultValue = "0",
      description =
          "run the cases in an order shuffled with this seed (0: as listed), to check that a"
              + " case's speed does not depend on what ran before it in the JVM.")
  long shuffle;

  @Option(names = "--no-progress", description = "no progress bar.")
  boolean noProgress;

  // --plot: drawn by viz (BenchPlot), kept apart from the timing
  @Option(
      names = "--plot",
      paramLabel = "FILE.png",
      description = "also draw GFLOP/s against N per kernel and thread count, with the FMA peak.")
  Path plot;

  @Option(
      names = "--backward",
      description =
          "time the backward passes instead (dQ, dK, dV from Q, K, V, O, LSE and dO; FLOPs 2.5×"
              + " the forward's): fast, paper (Algorithm 4) and naive (the float64 oracle); the"
              + " kernel column reads fast-bwd, paper-bwd, naive-bwd")
  boolean backward;

  // --decode: the decode step over a paged KV cache, run by bench-decode (DecodeBench)
  @Option(
      names = "--decode",
      description =
          "benchmark the decode step over a paged KV cache instead: cache lengths 1K to 128K,"
              + " batch 1 and 16, float32 and float16, H_q = 32, H_kv = 8, d = 128, with the"
              + " measured read bandwidth; passes on --n (as cache lengths), --batch, --heads,"
              + " --d, --threads and --csv; bench-decode has every flag of it.")
  boolean decode;

  // --model: a whole model (the model module), beside scripts/bench_model_torch.py
  @Option(
      names = "--model",
      paramLabel = "DIR",
      description =
          "benchmark a Llama-family model directory instead: prefill tokens/s at --prompt-tokens,"
              + " decode tokens/s at --context, for --threads and --weights, with the share of"
              + " time in attention; --iters and --csv apply. Compare with"
              + " scripts/bench_model_torch.py on the same directory.")
  Path model;

  @Option(
      names = "--prompt-tokens",
      split = ",",
      defaultValue = "512,2048",
      description = "with --model: prefill lengths (default ${DEFAULT-VALUE}).")
  List<Integer> promptTokens;

  @Option(
      names = "--context",
      split = ",",
      defaultValue = "2048,16384",
      description =
          "with --model: cached tokens a decode step attends to (default ${DEFAULT-VALUE}).")
  List<Integer> contexts;

  @Option(
      names = "--weights",
      split = ",",
      defaultValue = "float32,bfloat16",
      description =
          "with --model: weights in memory, float32, bfloat16, q8_0, as-stored (default"
              + " ${DEFAULT-VALUE}).")
  List<String> weightFormats;

  @Override
  public Integer call() throws IOException {
    if (decode) {
      return benchDecode();
    }
    if (model != null) {
      return benchModel();
    }
    List<BenchCase> cases = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    plan(cases, skipped);
    if (shuffle != 0) {
      Collections.shuffle(cases, new Random(shuffle));
    }
    if (plot != null) {
      Outputs.check(plot, "--plot", "png");
    }
    new Outputs().add("--csv", csv).add("--plot", plot);
    Map<Integer, Double> peaks = new LinkedHashMap<>();
    for (BenchCase c : cases) {
      peaks.computeIfAbsent(c.threads(), t -> FmaPeak.measure(300, t));
    }
    BenchRunner runner = new BenchRunner(warmup, iters);
    if (cases.stream().anyMatch(c -> c.kernel().startsWith("fast"))) {
      BenchRunner.warmUpJit(ds);
    }
    List<BenchRow> rows = new ArrayList<>();
    try (ProgressBar bar = progressBar(cases.size())) {
      for (BenchCase c : cases) {
        if (bar != null) {
          bar.setExtraMessage(
              String.format(
                  Locale.ROOT,
                  "%s T=%d N=%d d=%d %s",
                  c.kernel(),
                  c.threads(),
                  c.n(),
                  c.d(),
                  c.causalName()));
        }
        BenchRow row = runner.run(c, peaks.get(c.threads()));
        if (row.disturbed()) {
          // once more: a passing disturbance should not make the figure; keep the steadier run
          BenchRow again = runner.run(c, peaks.get(c.threads()));
          row = again.roundSpread() < row.roundSpread() ? again : row;
        }
        rows.add(row);
        if (bar != null) {
          bar.step();
        }
      }
    }
    // the peak again at the end: the better of the two is the machine's rate (what % of peak
    // divides by), and the two apart say whether the machine changed speed during the run
    Map<Integer, Double> endPeaks = new LinkedHashMap<>();
    for (int t : peaks.keySet()) {
      endPeaks.put(t, FmaPeak.measure(300, t));
    }
    List<BenchRow> rescored = new ArrayList<>();
    for (BenchRow r : rows) {
      int t = r.benchCase().threads();
      rescored.add(r.withPeak(Math.max(peaks.get(t), endPeaks.get(t))));
    }
    Map<Integer, Double> sustained = new LinkedHashMap<>();
    for (int t : peaks.keySet()) {
      sustained.put(t, FmaPeak.sustained(500, t));
    }
    BenchReport report =
        new BenchReport(Machine.detect(), peaks, endPeaks, sustained, rescored, skipped);
    report.print(spec.commandLine().getOut());
    if (csv != null) {
      // a failure (a full disk) is one line naming the file, as for every other writer
      Outputs.write(csv, () -> unchecked(() -> report.writeCsv(csv)));
      spec.commandLine().getOut().println("wrote " + csv);
    }
    if (plot != null && !rescored.isEmpty()) {
      Map<Integer, Double> best = new LinkedHashMap<>();
      peaks.forEach((t, g) -> best.put(t, Math.max(g, endPeaks.get(t))));
      BenchPlot.write(rescored, best, report.machine(), iters, plot);
      spec.commandLine().getOut().println("wrote " + plot);
    }
    return 0;
  }

  private ProgressBar progressBar(int total) {
    if (noProgress || !Main.stderrIsTerminal()) {
      return null; // a log or a pipe gets no \r frames
    }
    return new ProgressBarBuilder()
        .setTaskName("bench")
        .setInitialMax(total)
        .setStyle(ProgressBarStyle.ASCII)
        .setConsumer(
            new ConsoleProgressBarConsumer(System.err, 100)) // fixed width: no terminal probe
        .setUpdateIntervalMillis(250)
        .build();
  }

  /** Checks the flags and lists the cases in order (and the ones left out, with why). */
  void plan(List<BenchCase> cases, List<String> skipped) {
    if (heads < 1 || batch < 1) {
      throw new BadInputException("--heads and --batch must be at least 1");
    }
    if (warmup < 0 || iters < 1) {
      throw new BadInputException("--warmup must be ≥ 0 and --iters ≥ 1");
    }
    for (int n : ns) {
      if (n < 1) {
        throw new BadInputException("--n values must be at least 1, not " + n);
      }
    }
    for (int d : ds) {
      if (d < 1) {
        throw new BadInputException("--d values must be at least 1, not " + d);
      }
    }
    List<Causal> causals =
        switch (causal) {
          case "none" -> List.of(Causal.NONE);
          case "top-left" -> List.of(Causal.TOP_LEFT);
          case "bottom-right" -> List.of(Causal.BOTTOM_RIGHT);
          case "both" -> List.of(Causal.NONE, Causal.TOP_LEFT);
          default ->
              throw new BadInputException(
                  "--causal must be none, top-left, bottom-right or both, not '" + causal + "'");
        };
    LinkedHashSet<Integer> ts = new LinkedHashSet<>();
    if (threads == null) {
      ts.add(1);
      ts.add(Runtime.getRuntime().availableProcessors());
    } else {
      for (int t : threads) {
        ts.add(ThreadCount.check("--threads", t));
      }
    }
    for (String k : kernels) {
      if (!k.equals("fast") && !k.equals("paper") && !k.equals("naive")) {
        throw new BadInputException("--kernel must be fast, paper or naive, not '" + k + "'");
      }
    }
    if (ts.size() > 1 && kernels.stream().anyMatch(k -> !k.equals("fast"))) {
      skipped.add("paper and naive are single-threaded: they run at 1 thread only");
    }
    List<String> timed = backward ? kernels.stream().map(k -> k + "-bwd").toList() : kernels;
    for (String k : timed) {
      for (int d : ds) {
        for (int n : ns) {
          for (Causal c : causals) {
            for (int t : ts) {
              BenchCase bc = new BenchCase(k, t, batch, heads, n, d, c);
              if (!k.startsWith("fast") && t != 1) {
                continue; // paper and naive are single-threaded: one row, at 1 thread
              }
              if (!k.startsWith("fast") && bc.flops() > slowLimit * 1e9) {
                skipped.add(
                    String.format(
                        Locale.ROOT,
                        "%s N=%d d=%d %s: %.1f GFLOP is over --slow-limit %.1f",
                        k,
                        n,
                        d,
                        bc.causalName(),
                        bc.flops() / 1e9,
                        slowLimit));
                continue;
              }
              cases.add(bc);
            }
          }
        }
      }
    }
  }

  /** {@code bench --model}: {@link ModelBench}. */
  private int benchModel() throws IOException {
    List<Integer> t =
        threads == null
            ? List.of(1, Runtime.getRuntime().availableProcessors()).stream().distinct().toList()
            : threads;
    for (int x : t) {
      ThreadCount.check("--threads", x);
    }
    for (List<Integer> l : List.of(promptTokens, contexts)) {
      for (int n : l) {
        if (n < 1) {
          throw new BadInputException("--prompt-tokens and --context must be at least 1, not " + n);
        }
      }
    }
    if (iters < 1) {
      throw new BadInputException("--iters must be at least 1, not " + iters);
    }
    if (csv != null) {
      Outputs.check(csv, "--csv");
    }
    List<dev.flashattn4j.model.WeightFormat> w =
        weightFormats.stream().map(GenerateCommand::weightFormat).toList();
    List<ModelBench.Row> rows =
        new ModelBench(model, promptTokens, contexts, t, w, iters, spec.commandLine().getOut())
            .run();
    if (csv != null) {
      Outputs.write(csv, () -> unchecked(() -> ModelBench.writeCsv(csv, rows)));
    }
    return 0;
  }

  /** A write that may throw IOException. */
  private interface IoWrite {
    void run() throws IOException;
  }

  private static void unchecked(IoWrite w) {
    try {
      w.run();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * {@code bench --decode}: {@link BenchDecodeCommand}'s cases, with the flags given here passed
   * on: --n as the cache lengths, --batch, --heads, --d (one value), --threads (one value), --csv.
   */
  private int benchDecode() {
    return spec.commandLine()
        .getParent()
        .getSubcommands()
        .get("bench-decode")
        .execute(decodeArgs().toArray(String[]::new));
  }

  /** The bench-decode arguments that this command's flags translate to. */
  List<String> decodeArgs() {
    List<String> args = new ArrayList<>();
    picocli.CommandLine.ParseResult given = spec.commandLine().getParseResult();
    if (given.hasMatchedOption("--n")) {
      args.add("--cache-len");
      args.add(String.join(",", ns.stream().map(String::valueOf).toList()));
    }
    if (given.hasMatchedOption("--batch")) {
      args.add("--batch");
      args.add(String.valueOf(batch));
    }
    if (given.hasMatchedOption("--heads")) {
      args.add("--heads");
      args.add(String.valueOf(heads));
    }
    if (given.hasMatchedOption("--d")) {
      if (ds.size() != 1) {
        throw new BadInputException("bench --decode takes one --d value, not " + ds);
      }
      args.add("--d");
      args.add(String.valueOf(ds.get(0)));
    }
    if (threads != null) {
      if (threads.size() != 1) {
        throw new BadInputException("bench --decode takes one --threads value, not " + threads);
      }
      args.add("--threads");
      args.add(String.valueOf(threads.get(0)));
    }
    if (csv != null) {
      args.add("--csv");
      args.add(csv.toString());
    }
    return args;
  }
}
