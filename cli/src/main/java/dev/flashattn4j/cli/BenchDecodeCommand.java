package dev.flashattn4j.cli;

import dev.flashattn4j.cache.KvStorage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./flashattn bench-decode}: the decode step's latency and bandwidth ({@link DecodeBench}).
 */
@Command(
    name = "bench-decode",
    mixinStandardHelpOptions = true,
    description =
        "Per-step latency of the decode step over a paged KV cache, and the bytes of K and V read"
            + " per second next to this machine's measured read bandwidth.")
final class BenchDecodeCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--cache-len",
      split = ",",
      description = "cache lengths in tokens (default: ${DEFAULT-VALUE})",
      defaultValue = "1024,4096,16384,32768,65536,131072")
  int[] cacheLens;

  @Option(
      names = "--batch",
      split = ",",
      description = "batch sizes (default: ${DEFAULT-VALUE})",
      defaultValue = "1,16")
  int[] batches;

  @Option(
      names = "--storage",
      split = ",",
      description = "float32, float16, bfloat16 and/or int8 (default: ${DEFAULT-VALUE})",
      defaultValue = "float32,float16,bfloat16")
  String[] storages;

  @Option(names = "--heads", description = "H_q (default: ${DEFAULT-VALUE})", defaultValue = "32")
  int heads;

  @Option(
      names = "--kv-heads",
      description = "H_kv (default: ${DEFAULT-VALUE})",
      defaultValue = "8")
  int kvHeads;

  @Option(
      names = "--d",
      description = "head dimension (default: ${DEFAULT-VALUE})",
      defaultValue = "128")
  int headDim;

  @Option(
      names = "--page-size",
      description = "tokens a page (default: ${DEFAULT-VALUE})",
      defaultValue = "256")
  int pageSize;

  @Option(names = "--threads", description = "threads (default: all processors)")
  Integer threads;

  @Option(
      names = "--max-gb",
      description =
          "skip cases whose K and V exceed this many GB (default: ${DEFAULT-VALUE}; also capped at 60%% of the heap)",
      defaultValue = "4")
  double maxGb;

  @Option(
      names = "--min-time",
      description = "seconds to measure each case, at least 5 steps (default: ${DEFAULT-VALUE})",
      defaultValue = "1")
  double minSeconds;

  @Option(
      names = "--bandwidth-mib",
      description =
          "size of the array the read bandwidth is measured on, MiB (default: ${DEFAULT-VALUE})",
      defaultValue = "1024")
  int bandwidthMib;

  @Option(names = "--csv", description = "write one row per case to this CSV file")
  Path csv;

  @Override
  public Integer call() {
    List<KvStorage> kinds = new ArrayList<>();
    for (String s : storages) {
      switch (s.trim().toLowerCase(Locale.ROOT)) {
        case "float32", "f32" -> kinds.add(KvStorage.FLOAT32);
        case "float16", "f16" -> kinds.add(KvStorage.FLOAT16);
        case "bfloat16", "bf16" -> kinds.add(KvStorage.BFLOAT16);
        case "int8" -> kinds.add(KvStorage.INT8);
        default ->
            throw new BadInputException(
                "--storage must be float32, float16, bfloat16 or int8, not " + s);
      }
    }
    positive("--heads", heads);
    positive("--kv-heads", kvHeads);
    positive("--d", headDim);
    positive("--page-size", pageSize);
    positive("--bandwidth-mib", bandwidthMib);
    if (!(minSeconds >= 0) || Double.isInfinite(minSeconds)) {
      throw new BadInputException(
          "--min-time must be a finite number of seconds ≥ 0, not " + minSeconds);
    }
    if (!(maxGb > 0) || Double.isInfinite(maxGb)) {
      throw new BadInputException("--max-gb must be a finite number of GB > 0, not " + maxGb);
    }
    for (int n : cacheLens) {
      positive("--cache-len", n);
    }
    for (int b : batches) {
      positive("--batch", b);
    }
    if (heads % kvHeads != 0) {
      throw new BadInputException(
          "--heads (" + heads + ") must be a multiple of --kv-heads (" + kvHeads + ")");
    }
    int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
    ThreadCount.check("--threads", t);
    if (csv != null) {
      Outputs.check(csv, "--csv");
    }
    DecodeBench.Settings settings =
        new DecodeBench.Settings(
            cacheLens,
            batches,
            kinds,
            heads,
            kvHeads,
            headDim,
            pageSize,
            t,
            maxGb,
            minSeconds,
            bandwidthMib,
            csv);
    new DecodeBench(settings, spec.commandLine().getOut()).run();
    return 0;
  }

  private static void positive(String flag, int value) {
    if (value < 1) {
      throw new BadInputException(flag + " must be positive, not " + value);
    }
  }
}
