package dev.flashattn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flashattn4j.cli.bench.Machine;
import dev.flashattn4j.cli.serve.LoadTest;
import dev.flashattn4j.cli.serve.OpenAiServer;
import dev.flashattn4j.model.Model;
import dev.flashattn4j.model.ModelOptions;
import dev.flashattn4j.model.Scheduler;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./flashattn bench-serve}: clients of an OpenAI-compatible server (this one, started in the
 * same process with {@code --model}, or any at {@code --url}), for throughput (tokens/s of 1, 4,
 * 16… concurrent clients, as ratios to the first) and for faults ({@code --disconnect}: clients
 * that hang up at random). Every response read to its end is checked whole; at the end the server
 * must be idle with every page back (its {@code /stats}). Exit 1 when a response was not whole or a
 * page was not given back.
 */
@Command(
    name = "bench-serve",
    mixinStandardHelpOptions = true,
    description =
        "Load an OpenAI-compatible server with concurrent streaming clients: tokens/s per number"
            + " of clients, time to first token, clients that hang up at random (--disconnect);"
            + " every whole response checked, every page back at the end.")
final class BenchServeCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Target target;

  static final class Target {
    @Option(names = "--model", description = "serve this model directory in this process")
    Path model;

    @Option(names = "--url", description = "a running server's API base, e.g. http://host:8080/v1")
    URI url;
  }

  @Option(
      names = "--clients",
      split = ",",
      description = "concurrent clients, one run each (default: ${DEFAULT-VALUE})",
      defaultValue = "1,16")
  List<Integer> clients;

  @Option(
      names = "--requests",
      description = "requests per client in each run (default: ${DEFAULT-VALUE})",
      defaultValue = "2")
  int requests;

  @Option(
      names = "--seconds",
      description = "run each client count this long instead of --requests")
  Double seconds;

  @Option(
      names = "--prompt-words",
      description = "words per prompt (default: ${DEFAULT-VALUE})",
      defaultValue = "32")
  int promptWords;

  @Option(
      names = "--max-tokens",
      description = "tokens per request (EOS ignored) (default: ${DEFAULT-VALUE})",
      defaultValue = "128")
  int maxTokens;

  @Option(
      names = "--disconnect",
      description = "the share of requests hung up after a random number of tokens (default: 0)",
      defaultValue = "0")
  double disconnect;

  @Option(names = "--seed", description = "seed (default: ${DEFAULT-VALUE})", defaultValue = "1")
  long seed;

  @Option(names = "--threads", description = "threads of the in-process model (default: all)")
  Integer threads;

  @Option(
      names = "--kv",
      description = "KV pages of the in-process model (default: ${DEFAULT-VALUE})",
      defaultValue = "float32")
  String kv;

  @Option(
      names = "--weights",
      description = "weights of the in-process model (default: ${DEFAULT-VALUE})",
      defaultValue = "as-stored")
  String weights;

  @Option(
      names = "--kv-tokens",
      description = "the in-process server's KV room in tokens (default: ${DEFAULT-VALUE})",
      defaultValue = "65536")
  int kvTokens;

  @Option(
      names = "--max-running",
      description = "the in-process server's batch (default: ${DEFAULT-VALUE})",
      defaultValue = "64")
  int maxRunning;

  @Option(
      names = "--step-tokens",
      description = "the in-process server's tokens per step (default: ${DEFAULT-VALUE})",
      defaultValue = "512")
  int stepTokens;

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    check();
    Model model = null;
    OpenAiServer server = null;
    try {
      URI base = target.url;
      String id;
      if (target.model != null) {
        int t =
            threads == null
                ? Runtime.getRuntime().availableProcessors()
                : ThreadCount.check("--threads", threads);
        model =
            GenerateCommand.load(
                target.model,
                ModelOptions.defaults()
                    .withThreads(t)
                    .withWeights(GenerateCommand.weightFormat(weights))
                    .withKvStorage(ServeCommand.kvStorage(kv)));
        id = "bench";
        Scheduler.Options options;
        try {
          options = new Scheduler.Options(kvTokens, maxRunning, stepTokens, 64, 4096, 256);
        } catch (IllegalArgumentException e) {
          throw new BadInputException(e.getMessage());
        }
        server = new OpenAiServer(model, id, options, "127.0.0.1", 0);
        server.start();
        base = server.baseUri();
        out.printf(
            Locale.ROOT,
            "server: %s, %s weights, %s KV pages, %d thread(s), batch ≤ %d, %d tokens a step%n",
            model,
            GenerateCommand.weightsName(model),
            kv,
            model.threads(),
            maxRunning,
            stepTokens);
      } else {
        id = firstModel(base);
      }
      out.println("machine: " + Machine.detect());
      out.flush();
      int most = clients.stream().mapToInt(Integer::intValue).max().orElse(1);
      // warm-up: the JIT, the pages, the prefix cache's first entries
      LoadTest.run(
          new LoadTest.Plan(
              base, id, most, 1, 0, promptWords, Math.min(16, maxTokens), 0, seed + 99));
      out.printf(
          Locale.ROOT,
          "%8s %10s %10s %8s %9s %10s %8s %10s %12s%n",
          "clients",
          "completed",
          "hung up",
          "failed",
          "tokens",
          "tokens/s",
          "ratio",
          "TTFT ms",
          "request ms");
      double firstRate = Double.NaN;
      boolean ok = true;
      for (int c : clients) {
        LoadTest.Result r =
            LoadTest.run(
                new LoadTest.Plan(
                    base,
                    id,
                    c,
                    seconds == null ? requests : 0,
                    seconds == null ? 0 : seconds,
                    promptWords,
                    maxTokens,
                    disconnect,
                    seed));
        if (Double.isNaN(firstRate)) {
          firstRate = r.tokensPerSecond();
        }
        out.printf(
            Locale.ROOT,
            "%8d %10d %10d %8d %9d %10.1f %7.2fx %10.0f %12.0f%n",
            c,
            r.completed(),
            r.disconnected(),
            r.failed(),
            r.tokens(),
            r.tokensPerSecond(),
            r.tokensPerSecond() / firstRate,
            r.firstTokenMedianMs(),
            r.requestMedianMs());
        for (String p : r.problems()) {
          out.println("  problem: " + p);
        }
        out.flush();
        ok &= r.failed() == 0;
      }
      JsonNode stats = idleStats(base);
      int capacity = stats.get("capacityPages").asInt();
      int free = stats.get("freePages").asInt();
      int kept = stats.get("prefixPages").asInt();
      boolean pagesBack = stats.get("running").asInt() == 0 && free == capacity - kept;
      out.printf(
          Locale.ROOT,
          "after the runs: %d running, %d waiting, %d cancelled, %d preempted; pages: %d free of"
              + " %d, %d held by %d kept prompts: %s%n",
          stats.get("running").asInt(),
          stats.get("waiting").asInt(),
          stats.path("cancelled").asLong(),
          stats.path("preempted").asLong(),
          free,
          capacity,
          kept,
          stats.get("prefixEntries").asInt(),
          pagesBack ? "every other page is back" : "PAGES NOT GIVEN BACK");
      out.flush();
      return ok && pagesBack ? 0 : 1;
    } finally {
      if (server != null) {
        server.close();
      }
      if (model != null) {
        model.close();
      }
    }
  }

  private void check() {
    if (clients.isEmpty() || clients.stream().anyMatch(c -> c < 1 || c > 4096)) {
      throw new BadInputException("--clients must be 1 to 4096 each, not " + clients);
    }
    if (requests < 1) {
      throw new BadInputException("--requests must be ≥ 1, not " + requests);
    }
    if (seconds != null && !(seconds > 0 && seconds <= 86_400)) {
      throw new BadInputException("--seconds must be in (0, 86400], not " + seconds);
    }
    if (promptWords < 0 || maxTokens < 1) {
      throw new BadInputException("--prompt-words must be ≥ 0 and --max-tokens ≥ 1");
    }
    if (!(disconnect >= 0 && disconnect <= 1)) {
      throw new BadInputException("--disconnect must be in [0, 1], not " + disconnect);
    }
  }

  private static String firstModel(URI base) throws IOException, InterruptedException {
    HttpResponse<String> r = get(base, "/models");
    try {
      return JSON.readTree(r.body()).get("data").get(0).get("id").asText();
    } catch (RuntimeException e) {
      throw new BadInputException(base + "/models did not list a model: " + r.body());
    }
  }

  /** The server's /stats once it is idle (or after 60 s). */
  private static JsonNode idleStats(URI base) throws IOException, InterruptedException {
    URI root = URI.create(base.toString().replaceAll("/v1/?$", ""));
    long end = System.nanoTime() + 60_000_000_000L;
    JsonNode stats;
    do {
      Thread.sleep(100);
      stats = JSON.readTree(get(root, "/stats").body());
    } while ((stats.get("running").asInt() > 0 || stats.get("waiting").asInt() > 0)
        && System.nanoTime() < end);
    return stats;
  }

  private static HttpResponse<String> get(URI base, String path)
      throws IOException, InterruptedException {
    try (HttpClient http = HttpClient.newHttpClient()) {
      return http.send(
          HttpRequest.newBuilder(URI.create(base + path)).GET().build(),
          HttpResponse.BodyHandlers.ofString());
    }
  }
}
