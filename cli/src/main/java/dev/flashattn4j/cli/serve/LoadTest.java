package dev.flashattn4j.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Clients of an OpenAI-compatible server, for throughput and for faults: each of {@code clients}
 * threads sends streamed completion requests one after another (each prompt its own, {@code
 * ignore_eos} so that every request asks for exactly {@code maxTokens} tokens), for a number of
 * requests or a time, and hangs up on a share of them after a random number of tokens. Every
 * response read to its end is checked whole: its events parse, an event per token as many as the
 * usage counts and {@code max_tokens} asked, one finish reason, {@code [DONE]} last. The server's
 * own answers count too: an error object is a failure.
 */
public final class LoadTest {

  /**
   * What to run.
   *
   * @param base the API's base ({@code http://host:port/v1})
   * @param model the model's id
   * @param clients concurrent clients
   * @param requestsPerClient requests each client sends (0: until {@code seconds})
   * @param seconds how long clients keep sending (0: {@code requestsPerClient})
   * @param promptWords words in a prompt
   * @param maxTokens tokens each request asks for
   * @param disconnect the share of requests hung up early, 0 to 1
   * @param seed the prompts' and hang-ups' seed
   */
  public record Plan(
      URI base,
      String model,
      int clients,
      int requestsPerClient,
      double seconds,
      int promptWords,
      int maxTokens,
      double disconnect,
      long seed) {}

  /**
   * What happened.
   *
   * @param completed responses read to their end and whole
   * @param disconnected requests hung up on purpose
   * @param failed responses that were not whole, or errors (the first few in {@code problems})
   * @param tokens tokens received (whole responses' usage, and the events read before hanging up)
   * @param seconds wall time
   * @param firstTokenMedianMs median time to the first token's event of the whole responses
   * @param requestMedianMs median time of the whole responses
   * @param problems the first failures' descriptions
   */
  public record Result(
      int completed,
      int disconnected,
      int failed,
      long tokens,
      double seconds,
      double firstTokenMedianMs,
      double requestMedianMs,
      List<String> problems) {

    public double tokensPerSecond() {
      return tokens / seconds;
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] WORDS = {
    "the",
    "model",
    "reads",
    "a",
    "long",
    "story",
    "about",
    "rivers",
    "and",
    "mountains",
    "in",
    "winter",
    "light",
    "while",
    "people",
    "walk",
    "slowly",
    "home",
    "under",
    "grey",
    "skies"
  };

  /**
   * The prompt of request {@code r} of client {@code c}: distinct words, the same in every run (and
   * in scripts/bench_serve_torch.py, which builds them the same way).
   */
  public static String prompt(int c, int r, int words) {
    StringBuilder b = new StringBuilder("Request ").append(c).append('.').append(r).append(':');
    for (int j = 0; j < words; j++) {
      b.append(' ').append(WORDS[(c * 7 + r * 5 + j * 3 + j / WORDS.length) % WORDS.length]);
    }
    return b.toString();
  }

  private LoadTest() {}

  /** Runs the plan. */
  public static Result run(Plan plan) throws InterruptedException {
    HttpClient http =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .build();
    AtomicInteger completed = new AtomicInteger();
    AtomicInteger disconnected = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    AtomicLong tokens = new AtomicLong();
    List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Double> firstToken = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Double> whole = java.util.Collections.synchronizedList(new ArrayList<>());
    long start = System.nanoTime();
    long deadline = plan.seconds() > 0 ? start + (long) (plan.seconds() * 1e9) : Long.MAX_VALUE;
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> clients = new ArrayList<>();
      for (int c = 0; c < plan.clients(); c++) {
        int client = c;
        clients.add(
            pool.submit(
                () -> {
                  SplittableRandom random = new SplittableRandom(plan.seed() * 1_000_003L + client);
                  for (int r = 0;
                      plan.requestsPerClient() > 0
                          ? r < plan.requestsPerClient()
                          : System.nanoTime() < deadline;
                      r++) {
                    int hangUpAfter =
                        random.nextDouble() < plan.disconnect()
                            ? 1 + random.nextInt(Math.max(1, plan.maxTokens() / 2))
                            : -1;
                    one(
                        http,
                        plan,
                        client,
                        r,
                        hangUpAfter,
                        completed,
                        disconnected,
                        failed,
                        tokens,
                        problems,
                        firstToken,
                        whole);
                  }
                  return null;
                }));
      }
      for (Future<?> f : clients) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          failed.incrementAndGet();
          problems.add("a client failed: " + e.getCause());
        }
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Result(
        completed.get(),
        disconnected.get(),
        failed.get(),
        tokens.get(),
        seconds,
        median(firstToken),
        median(whole),
        problems.subList(0, Math.min(5, problems.size())));
  }

  /** One streamed request; hangs up after {@code hangUpAfter} events when it is positive. */
  private static void one(
      HttpClient http,
      Plan plan,
      int client,
      int r,
      int hangUpAfter,
      AtomicInteger completed,
      AtomicInteger disconnected,
      AtomicInteger failed,
      AtomicLong tokens,
      List<String> problems,
      List<Double> firstToken,
      List<Double> whole) {
    String body =
        JSON.createObjectNode()
            .put("model", plan.model())
            .put("prompt", prompt(client, r, plan.promptWords()))
            .put("max_tokens", plan.maxTokens())
            .put("temperature", 0)
            .put("ignore_eos", true)
            .put("stream", true)
            .set("stream_options", JSON.createObjectNode().put("include_usage", true))
            .toString();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(plan.base() + "/completions"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    long t0 = System.nanoTime();
    String where = "client " + client + " request " + r;
    try {
      HttpResponse<InputStream> response =
          http.send(request, HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream in = response.body();
          BufferedReader lines =
              new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        if (response.statusCode() != 200) {
          failed.incrementAndGet();
          problems.add(where + ": status " + response.statusCode() + ": " + lines.readLine());
          return;
        }
        int events = 0;
        int finishes = 0;
        long usage = -1;
        boolean done = false;
        double first = -1;
        String line;
        while ((line = lines.readLine()) != null) {
          if (line.isEmpty() || line.startsWith(":")) {
            continue; // a comment: the server's heartbeat
          }
          if (!line.startsWith("data: ")) {
            throw new IOException("not an event: " + line);
          }
          String data = line.substring(6);
          if (done) {
            throw new IOException("an event after [DONE]");
          }
          if (data.equals("[DONE]")) {
            done = true;
            continue;
          }
          JsonNode o = JSON.readTree(data);
          if (o.has("error")) {
            throw new IOException("error event: " + o.get("error"));
          }
          if (o.hasNonNull("usage")) {
            usage = o.get("usage").get("completion_tokens").asLong();
            continue;
          }
          JsonNode choice = o.get("choices").get(0);
          if (!choice.get("finish_reason").isNull()) {
            finishes++;
            continue;
          }
          events++; // the server sends an event per token
          if (first < 0) {
            first = (System.nanoTime() - t0) / 1e6;
          }
          if (hangUpAfter > 0 && events == hangUpAfter) {
            tokens.addAndGet(events);
            disconnected.incrementAndGet();
            return; // closing the stream hangs up
          }
        }
        if (!done || finishes != 1 || usage != plan.maxTokens() || events != usage) {
          throw new IOException(
              "not whole: [DONE] "
                  + done
                  + ", "
                  + finishes
                  + " finish reasons, usage "
                  + usage
                  + " of "
                  + plan.maxTokens()
                  + " tokens, "
                  + events
                  + " token events");
        }
        tokens.addAndGet(usage);
        completed.incrementAndGet();
        firstToken.add(first);
        whole.add((System.nanoTime() - t0) / 1e6);
      }
    } catch (IOException e) {
      failed.incrementAndGet();
      problems.add(where + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static double median(List<Double> values) {
    synchronized (values) {
      if (values.isEmpty()) {
        return Double.NaN;
      }
      double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
      Arrays.sort(v);
      return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
  }
}
