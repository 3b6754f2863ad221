package dev.flashattn4j.cli;

import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cli.serve.OpenAiServer;
import dev.flashattn4j.model.Model;
import dev.flashattn4j.model.ModelOptions;
import dev.flashattn4j.model.Scheduler;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./flashattn serve}: the model behind an OpenAI-compatible HTTP API ({@code /v1/models},
 * {@code /v1/completions}, {@code /v1/chat/completions}, streaming or not), with every request
 * batched with the others step by step (continuous batching on the paged KV cache). Runs until
 * interrupted (Ctrl-C, SIGTERM), then ends the generations in progress and stops.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description =
        "Serve a model directory over an OpenAI-compatible HTTP API: /v1/models,"
            + " /v1/completions and /v1/chat/completions (\"stream\": true for server-sent"
            + " events). Concurrent requests are batched together. Runs until interrupted.")
final class ServeCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", required = true, description = "the model directory")
  Path model;

  @Option(
      names = "--served-model-name",
      paramLabel = "NAME",
      description = "the model's id in the API (default: the directory's name)")
  String name;

  @Option(
      names = "--host",
      description = "the address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 for all)",
      defaultValue = "127.0.0.1")
  String host;

  @Option(
      names = "--port",
      description = "the TCP port; 0 picks a free one (default: ${DEFAULT-VALUE})",
      defaultValue = "8080")
  int port;

  @Option(names = "--threads", description = "threads of the model (default: all cores)")
  Integer threads;

  @Option(
      names = "--weights",
      description =
          "weights in memory: as-stored, float32, bfloat16, q8_0 (default: ${DEFAULT-VALUE})",
      defaultValue = "as-stored")
  String weights;

  @Option(
      names = "--kv",
      description = "KV cache pages: float32, float16, bfloat16, int8 (default: ${DEFAULT-VALUE})",
      defaultValue = "float32")
  String kv;

  @Option(
      names = "--kv-tokens",
      description =
          "the KV cache's room in tokens over all requests; pages are allocated as they are first"
              + " used (default: ${DEFAULT-VALUE})",
      defaultValue = "16384")
  int kvTokens;

  @Option(
      names = "--max-running",
      description = "the most requests in one step (default: ${DEFAULT-VALUE})",
      defaultValue = "64")
  int maxRunning;

  @Option(
      names = "--step-tokens",
      description =
          "the most new tokens in one step: decoding tokens and prefill chunks (default:"
              + " ${DEFAULT-VALUE})",
      defaultValue = "512")
  int stepTokens;

  @Option(
      names = "--prefix-cache",
      paramLabel = "PROMPTS",
      description = "prompts kept for prefix caching; 0 turns it off (default: ${DEFAULT-VALUE})",
      defaultValue = "64")
  int prefixCache;

  @Option(
      names = "--max-queued",
      description =
          "the most requests running or waiting; more get 503 (default: ${DEFAULT-VALUE})",
      defaultValue = "1024")
  int maxQueued;

  @Option(
      names = "--admission-horizon",
      paramLabel = "TOKENS",
      description =
          "the new tokens of each running request whose pages admission keeps free; beyond them"
              + " it is optimistic and preempts the youngest request when the cache runs short"
              + " (default: ${DEFAULT-VALUE})",
      defaultValue = "256")
  int horizon;

  @Option(
      names = "--api-key",
      paramLabel = "KEY",
      description =
          "ask every /v1 request for 'Authorization: Bearer KEY' (default: the environment"
              + " variable FLASHATTN_API_KEY, else no key)")
  String apiKey;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (port < 0 || port > 65535) {
      throw new BadInputException("--port must be 0 to 65535, not " + port);
    }
    int t =
        threads == null
            ? Runtime.getRuntime().availableProcessors()
            : ThreadCount.check("--threads", threads);
    Scheduler.Options options;
    try {
      options =
          new Scheduler.Options(kvTokens, maxRunning, stepTokens, prefixCache, maxQueued, horizon);
    } catch (IllegalArgumentException e) {
      throw new BadInputException(
          "--kv-tokens, --max-running, --step-tokens, --prefix-cache, --max-queued,"
              + " --admission-horizon: "
              + e.getMessage());
    }
    ModelOptions modelOptions =
        ModelOptions.defaults()
            .withThreads(t)
            .withWeights(GenerateCommand.weightFormat(weights))
            .withKvStorage(kvStorage(kv));
    Model m = GenerateCommand.load(model, modelOptions);
    String id =
        name != null
            ? name
            : model
                .toAbsolutePath()
                .normalize()
                .getFileName()
                .toString()
                .replaceFirst("\\.gguf$", "");
    OpenAiServer server = new OpenAiServer(m, id, options, host, port);
    String key = apiKey != null ? apiKey : System.getenv("FLASHATTN_API_KEY");
    if (key != null && key.isBlank()) {
      server.close();
      m.close();
      throw new BadInputException("--api-key must not be blank");
    }
    server.requireApiKey(key);
    Thread stop =
        new Thread(
            () -> {
              server.close();
              m.close();
            },
            "flashattn-serve-stop");
    try {
      server.start();
    } catch (IOException e) {
      server.close();
      m.close();
      throw new BadInputException(
          "cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
    }
    Runtime.getRuntime().addShutdownHook(stop);
    out.printf(
        Locale.ROOT,
        "serving %s (%s, %s weights, %s KV pages, %d thread(s)) at %s%n"
            + "  try: curl %s/completions -H 'Content-Type: application/json'"
            + " -d '{\"model\": \"%s\", \"prompt\": \"Hello\", \"max_tokens\": 16}'%n",
        id,
        m,
        GenerateCommand.weightsName(m),
        kv,
        m.threads(),
        server.baseUri(),
        server.baseUri(),
        id);
    out.flush();
    server.join();
    return 0;
  }

  static KvStorage kvStorage(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "float32", "f32" -> KvStorage.FLOAT32;
      case "float16", "f16" -> KvStorage.FLOAT16;
      case "bfloat16", "bf16" -> KvStorage.BFLOAT16;
      case "int8" -> KvStorage.INT8;
      default ->
          throw new BadInputException(
              "--kv must be float32, float16, bfloat16 or int8, not " + name);
    };
  }
}
