package dev.flashattn4j.cli.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flashattn4j.model.ChatTemplate;
import dev.flashattn4j.model.Model;
import dev.flashattn4j.model.ModelOptions;
import dev.flashattn4j.model.Sampler;
import dev.flashattn4j.model.Scheduler;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 21: the OpenAI-compatible server, through Java's HTTP client as any client would reach it:
 * the tokens a request gets are the greedy tokens of the model alone, streamed or not, alone or
 * with concurrent clients; chat goes through the chat template; bad requests get OpenAI's error
 * object (never a trace); a client that disconnects gives its pages back.
 */
class OpenAiServerTest {

  private static final Path LLAMA = Path.of("../model/src/test/resources/models/llama");
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String CHATML =
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' +"
          + " message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt"
          + " %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

  @TempDir static Path dir;
  static Model model;
  static OpenAiServer server;
  static HttpClient http;
  static URI base;

  @BeforeAll
  static void start() throws Exception {
    Path copy = Files.createDirectories(dir.resolve("tiny-llama"));
    try (Stream<Path> files = Files.list(LLAMA)) {
      for (Path f : files.toList()) {
        Files.copy(f, copy.resolve(f.getFileName()));
      }
    }
    ObjectNode config = (ObjectNode) JSON.readTree(copy.resolve("tokenizer_config.json").toFile());
    config.put("chat_template", CHATML);
    Files.writeString(copy.resolve("tokenizer_config.json"), config.toString());
    model = Model.load(copy, ModelOptions.defaults().withThreads(2));
    server =
        new OpenAiServer(
            model,
            "tiny",
            Scheduler.Options.defaults()
                .withCacheTokens(8192)
                .withMaxRunning(16)
                .withStepTokens(64),
            "127.0.0.1",
            0);
    server.start();
    base = server.baseUri();
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  }

  @AfterAll
  static void stop() {
    server.close();
    model.close();
  }

  static HttpResponse<String> post(String path, String body) throws Exception {
    HttpRequest r =
        HttpRequest.newBuilder(URI.create(base + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .timeout(Duration.ofSeconds(60))
            .build();
    return http.send(r, HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(base + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The greedy continuation of the model alone, as text. */
  static String greedyText(int[] prompt, int maxTokens) {
    int[] tokens = model.generate(List.of(prompt), maxTokens, Sampler.greedy()).get(0);
    return model.tokenizer().decode(tokens, true);
  }

  /** The events of a streamed response, "[DONE]" last. */
  static List<String> events(String body) {
    List<String> out = new ArrayList<>();
    for (String block : body.split("\n\n")) {
      if (!block.isBlank() && !block.startsWith(":")) { // ":" begins a heartbeat comment
        assertTrue(block.startsWith("data: "), block);
        out.add(block.substring(6));
      }
    }
    return out;
  }

  @Test
  void modelsAreListed() throws Exception {
    JsonNode list = JSON.readTree(get("/models").body());
    assertEquals("list", list.get("object").asText());
    assertEquals("tiny", list.get("data").get(0).get("id").asText());
    assertEquals(200, get("/models/tiny").statusCode());
    HttpResponse<String> missing = get("/models/gpt-4");
    assertEquals(404, missing.statusCode());
    assertEquals(
        "model_not_found", JSON.readTree(missing.body()).get("error").get("code").asText());
  }

  @Test
  void aCompletionIsTheModelsGreedyContinuationStreamedOrNot() throws Exception {
    String prompt = "Hello world, this is";
    int[] ids = model.tokenizer().encode(prompt, true);
    String expected = greedyText(ids, 12);
    String body =
        "{\"model\": \"tiny\", \"prompt\": \""
            + prompt
            + "\", \"max_tokens\": 12, \"temperature\": 0";
    HttpResponse<String> r = post("/completions", body + "}");
    assertEquals(200, r.statusCode(), r.body());
    JsonNode o = JSON.readTree(r.body());
    assertEquals("text_completion", o.get("object").asText());
    JsonNode choice = o.get("choices").get(0);
    assertEquals(expected, choice.get("text").asText());
    assertEquals(ids.length, o.get("usage").get("prompt_tokens").asInt());
    int produced = o.get("usage").get("completion_tokens").asInt();
    assertEquals(produced == 12 ? "length" : "stop", choice.get("finish_reason").asText());

    HttpResponse<String> s =
        post(
            "/completions",
            body + ", \"stream\": true, \"stream_options\": {\"include_usage\": true}}");
    assertEquals(200, s.statusCode());
    assertTrue(s.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
    List<String> events = events(s.body());
    assertEquals("[DONE]", events.get(events.size() - 1));
    StringBuilder text = new StringBuilder();
    String finish = null;
    int tokenEvents = 0;
    for (String e : events.subList(0, events.size() - 2)) {
      JsonNode c = JSON.readTree(e).get("choices").get(0);
      text.append(c.get("text").asText());
      if (!c.get("finish_reason").isNull()) {
        finish = c.get("finish_reason").asText();
      } else {
        tokenEvents++;
      }
    }
    assertEquals(expected, text.toString());
    assertEquals(produced, tokenEvents, "an event per token");
    assertEquals(choice.get("finish_reason").asText(), finish);
    JsonNode usage = JSON.readTree(events.get(events.size() - 2)).get("usage");
    assertEquals(produced, usage.get("completion_tokens").asInt());
  }

  @Test
  void chatGoesThroughTheTemplateAndStreamsDeltas() throws Exception {
    String messages =
        "[{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\":"
            + " [{\"type\": \"text\", \"text\": \"Hi \"}, {\"type\": \"text\", \"text\": \"there\"}]}]";
    String rendered =
        ChatTemplate.of(CHATML, null, null)
            .render(
                List.of(
                    new ChatTemplate.Message("system", "Be brief."),
                    new ChatTemplate.Message("user", "Hi there")),
                true);
    int[] ids = model.tokenizer().encode(rendered, false);
    String expected = greedyText(ids, 10);
    String body =
        "{\"model\": \"tiny\", \"messages\": "
            + messages
            + ", \"max_tokens\": 10, \"temperature\": 0";
    JsonNode o = JSON.readTree(post("/chat/completions", body + "}").body());
    assertEquals("chat.completion", o.get("object").asText());
    assertEquals(ids.length, o.get("usage").get("prompt_tokens").asInt());
    JsonNode message = o.get("choices").get(0).get("message");
    assertEquals("assistant", message.get("role").asText());
    assertEquals(expected, message.get("content").asText());

    List<String> events = events(post("/chat/completions", body + ", \"stream\": true}").body());
    assertEquals("[DONE]", events.get(events.size() - 1));
    JsonNode first = JSON.readTree(events.get(0)).get("choices").get(0).get("delta");
    assertEquals("assistant", first.get("role").asText());
    StringBuilder text = new StringBuilder();
    for (String e : events.subList(0, events.size() - 1)) {
      JsonNode chunk = JSON.readTree(e);
      assertEquals("chat.completion.chunk", chunk.get("object").asText());
      JsonNode delta = chunk.get("choices").get(0).get("delta");
      if (delta.has("content")) {
        text.append(delta.get("content").asText());
      }
    }
    assertEquals(expected, text.toString());
  }

  /** Sixteen clients at once: each gets the greedy text it gets alone. */
  @Test
  void concurrentClientsAreBatchedAndGetTheirOwnText() throws Exception {
    int clients = 16;
    List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      StringBuilder p = new StringBuilder("client " + c + ":");
      for (int i = 0; i < c; i++) {
        p.append(" word").append(i);
      }
      expected.add(greedyText(model.tokenizer().encode(p.toString(), true), 20));
      String body =
          "{\"model\": \"tiny\", \"prompt\": \""
              + p
              + "\", \"max_tokens\": 20, \"temperature\": 0, \"stream\": "
              + (c % 2 == 0)
              + "}";
      futures.add(
          http.sendAsync(
              HttpRequest.newBuilder(URI.create(base + "/completions"))
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString()));
    }
    for (int c = 0; c < clients; c++) {
      HttpResponse<String> r = futures.get(c).get();
      assertEquals(200, r.statusCode(), r.body());
      String text;
      if (c % 2 == 0) {
        StringBuilder t = new StringBuilder();
        List<String> events = events(r.body());
        for (String e : events.subList(0, events.size() - 1)) {
          t.append(JSON.readTree(e).get("choices").get(0).get("text").asText());
        }
        text = t.toString();
      } else {
        text = JSON.readTree(r.body()).get("choices").get(0).get("text").asText();
      }
      assertEquals(expected.get(c), text, "client " + c);
    }
  }

  @Test
  void aStopSequenceEndsTheTextBeforeIt() throws Exception {
    String prompt = "The stop test";
    String whole = greedyText(model.tokenizer().encode(prompt, true), 24);
    // a stop sequence from the middle of the greedy text
    int at = whole.length() / 2;
    String stop = whole.substring(at, Math.min(whole.length(), at + 2));
    String expected = whole.substring(0, whole.indexOf(stop));
    for (boolean stream : new boolean[] {false, true}) {
      String body =
          JSON.createObjectNode()
              .put("model", "tiny")
              .put("prompt", prompt)
              .put("max_tokens", 24)
              .put("temperature", 0)
              .put("stream", stream)
              .put("stop", stop)
              .toString();
      HttpResponse<String> r = post("/completions", body);
      String text;
      String finish;
      if (stream) {
        StringBuilder t = new StringBuilder();
        finish = null;
        List<String> events = events(r.body());
        for (String e : events.subList(0, events.size() - 1)) {
          JsonNode c = JSON.readTree(e).get("choices").get(0);
          t.append(c.get("text").asText());
          finish = c.get("finish_reason").isNull() ? finish : c.get("finish_reason").asText();
        }
        text = t.toString();
      } else {
        JsonNode c = JSON.readTree(r.body()).get("choices").get(0);
        text = c.get("text").asText();
        finish = c.get("finish_reason").asText();
      }
      assertEquals(expected, text, "stream " + stream);
      assertEquals("stop", finish);
    }
  }

  @Test
  void seededSamplingRepeatsAndNChoicesDiffer() throws Exception {
    String body =
        "{\"model\": \"tiny\", \"prompt\": \"Once\", \"max_tokens\": 16, \"temperature\": 1.0,"
            + " \"seed\": 42, \"n\": 3, \"ignore_eos\": true}";
    JsonNode a = JSON.readTree(post("/completions", body).body());
    JsonNode b = JSON.readTree(post("/completions", body).body());
    assertEquals(3, a.get("choices").size());
    assertEquals(a.get("choices"), b.get("choices"), "the same seed, the same texts");
    assertEquals(48, a.get("usage").get("completion_tokens").asInt());
    assertFalse(
        a.get("choices").get(0).get("text").equals(a.get("choices").get(1).get("text"))
            && a.get("choices").get(1).get("text").equals(a.get("choices").get(2).get("text")),
        "three samples, not one");
  }

  static Stream<Arguments> badRequests() {
    String big = "x".repeat(OpenAiServer.MAX_BODY + 10);
    return Stream.of(
        Arguments.of("/completions", "{not json", 400, null),
        Arguments.of("/completions", "[1, 2]", 400, null),
        Arguments.of("/completions", "{\"prompt\": \"x\"}", 400, "model"),
        Arguments.of("/completions", "{\"model\": \"gpt-4\", \"prompt\": \"x\"}", 404, null),
        Arguments.of("/completions", "{\"model\": \"tiny\"}", 400, "prompt"),
        Arguments.of("/completions", "{\"model\": \"tiny\", \"prompt\": 5}", 400, "prompt"),
        Arguments.of("/completions", "{\"model\": \"tiny\", \"prompt\": [[]]}", 400, "prompt"),
        Arguments.of(
            "/completions", "{\"model\": \"tiny\", \"prompt\": [1, 99999]}", 400, "prompt"),
        Arguments.of(
            "/completions",
            "{\"model\": \"tiny\", \"prompt\": \"x\", \"max_tokens\": -1}",
            400,
            "max_tokens"),
        Arguments.of(
            "/completions",
            "{\"model\": \"tiny\", \"prompt\": \"x\", \"max_tokens\": 1e30}",
            400,
            "max_tokens"),
        Arguments.of(
            "/completions",
            "{\"model\": \"tiny\", \"prompt\": \"x\", \"max_tokens\": 100000}",
            400,
            "prompt"),
        Arguments.of(
            "/completions",
            "{\"model\": \"tiny\", \"prompt\": \"x\", \"temperature\": \"hot\"}",
            400,
            "temperature"),
        Arguments.of(
            "/completions",
            "{\"model\": \"tiny\", \"prompt\": \"x\", \"temperature\": -1}",
            400,
            "temperature"),
        Arguments.of(
            "/completions", "{\"model\": \"tiny\", \"prompt\": \"x\", \"top_p\": 0}", 400, "top_p"),
        Arguments.of(
            "/completions", "{\"model\": \"tiny\", \"prompt\": \"x\", \"n\": 0}", 400, "n"),
        Arguments.of(
            "/completions", "{\"model\": \"tiny\", \"prompt\": \"x\", \"n\": 1000000}", 400, "n"),
        Arguments.of(
            "/completions", "{\"model\": \"tiny\", \"prompt\": \"x\", \"stop\": [1]}", 400, "stop"),
        Arguments.of(
            "/completions",
            "{\"model\": \"tiny\", \"prompt\": \"x\", \"stop\": \"\"}",
            400,
            "stop"),
        Arguments.of(
            "/completions", "{\"model\": \"tiny\", \"prompt\": \"x\", \"seed\": 1.5}", 400, "seed"),
        Arguments.of(
            "/completions",
            "{\"model\": \"tiny\", \"prompt\": \"x\", \"stream\": \"yes\"}",
            400,
            "stream"),
        Arguments.of(
            "/completions",
            "{\"model\": \"tiny\", \"prompt\": \"x\", \"echo\": true}",
            400,
            "echo"),
        Arguments.of(
            "/completions",
            "{\"model\": \"tiny\", \"prompt\": \"x\", \"logprobs\": 5}",
            400,
            "logprobs"),
        Arguments.of(
            "/completions",
            "{\"model\": \"tiny\", \"prompt\": \"x\", \"presence_penalty\": 1}",
            400,
            "presence_penalty"),
        Arguments.of(
            "/completions",
            "{\"model\": \"tiny\", \"prompt\": \"x\", \"stream_options\": {}}",
            400,
            "stream_options"),
        Arguments.of(
            "/completions", "{\"model\": \"tiny\", \"prompt\": \"" + big + "\"}", 413, null),
        Arguments.of(
            "/chat/completions", "{\"model\": \"tiny\", \"messages\": []}", 400, "messages"),
        Arguments.of(
            "/chat/completions",
            "{\"model\": \"tiny\", \"messages\": [{\"content\": \"x\"}]}",
            400,
            "messages[0]"),
        Arguments.of(
            "/chat/completions",
            "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": 3}]}",
            400,
            "messages[0].content"),
        Arguments.of(
            "/chat/completions",
            "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}",
            400,
            "messages[0].content"),
        Arguments.of(
            "/chat/completions",
            "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_completion_tokens\": 0}",
            400,
            "max_completion_tokens"));
  }

  @ParameterizedTest
  @MethodSource("badRequests")
  void badRequestsGetOpenAisErrorObject(String path, String body, int status, String param)
      throws Exception {
    HttpResponse<String> r = post(path, body);
    assertEquals(status, r.statusCode(), r.body());
    JsonNode error = JSON.readTree(r.body()).get("error");
    assertNotNull(error, r.body());
    assertFalse(error.get("message").asText().isBlank());
    assertEquals("invalid_request_error", error.get("type").asText());
    if (param != null) {
      assertEquals(param, error.get("param").asText(), r.body());
    }
    assertFalse(r.body().contains("Exception") || r.body().contains("\tat "), r.body());
  }

  /** A prompt too long for the model's positions is refused, or truncated when asked. */
  @Test
  void aLongPromptIsRefusedOrTruncatedWhenAsked() throws Exception {
    int positions = model.config().maxPositions();
    StringBuilder ids = new StringBuilder("[1");
    for (int i = 1; i < positions + 40; i++) {
      ids.append(", ").append(3 + i % 200);
    }
    ids.append(']');
    String body =
        "{\"model\": \"tiny\", \"prompt\": " + ids + ", \"max_tokens\": 8, \"temperature\": 0";
    HttpResponse<String> refused = post("/completions", body + "}");
    assertEquals(400, refused.statusCode());
    JsonNode error = JSON.readTree(refused.body()).get("error");
    assertEquals("context_length_exceeded", error.get("code").asText());
    assertTrue(error.get("message").asText().contains("maximum context length is " + positions));
    HttpResponse<String> cut = post("/completions", body + ", \"truncate_prompt_tokens\": 100}");
    assertEquals(200, cut.statusCode(), cut.body());
    assertEquals(100, JSON.readTree(cut.body()).get("usage").get("prompt_tokens").asInt());
  }

  /** With an API key, /v1 asks for it (OpenAI's 401 invalid_api_key); /health does not. */
  @Test
  void anApiKeyIsAskedForWhenSet() throws Exception {
    server.requireApiKey("sesame");
    try {
      HttpResponse<String> none = get("/models");
      assertEquals(401, none.statusCode());
      assertEquals("invalid_api_key", JSON.readTree(none.body()).get("error").get("code").asText());
      HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base + "/models")).GET();
      assertEquals(
          401,
          http.send(
                  r.header("Authorization", "Bearer sesam").build(),
                  HttpResponse.BodyHandlers.ofString())
              .statusCode());
      assertEquals(
          200,
          http.send(
                  HttpRequest.newBuilder(URI.create(base + "/models"))
                      .header("Authorization", "Bearer sesame")
                      .GET()
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .statusCode());
      assertEquals(
          200,
          http.send(
                  HttpRequest.newBuilder(URI.create(base.toString().replace("/v1", "/health")))
                      .GET()
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .statusCode());
    } finally {
      server.requireApiKey(null);
    }
  }

  @Test
  void wrongMethodsAndPathsAreRefused() throws Exception {
    assertEquals(405, get("/completions").statusCode());
    HttpResponse<String> r = get("/nowhere");
    assertEquals(404, r.statusCode());
    assertEquals(
        "invalid_request_error", JSON.readTree(r.body()).get("error").get("type").asText());
  }

  /**
   * Clients that read a few events of a long stream and hang up: their generations are cancelled
   * and every page they held comes back. (A {@link Brake} slows every step to 20 ms while the
   * clients hang up: their 200 tokens take 4 s at least, so they are surely still running then.)
   */
  @Test
  void aClientThatHangsUpGivesItsPagesBack() throws Exception {
    Scheduler.Stats before = server.scheduler().stats();
    Brake brake = new Brake(20);
    List<InputStream> streams = new ArrayList<>();
    int clients = 6;
    for (int c = 0; c < clients; c++) {
      String body =
          "{\"model\": \"tiny\", \"prompt\": \"hang up "
              + c
              + "\", \"max_tokens\": 200, \"temperature\": 0, \"ignore_eos\": true, \"stream\": true}";
      HttpResponse<InputStream> r =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/completions"))
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofInputStream());
      BufferedReader in =
          new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
      for (int i = 0; i < 4; i++) {
        assertTrue(in.readLine() != null);
      }
      streams.add(r.body());
    }
    for (InputStream s : streams) {
      s.close();
    }
    brake.release();
    Scheduler.Stats st = awaitIdle();
    assertEquals(0, st.running());
    assertEquals(
        st.capacityPages() - st.prefixPages(), st.freePages(), "only kept prompts hold pages");
    assertEquals(
        clients + brake.cancelled.get(),
        st.cancelled() - before.cancelled(),
        "every client's request was cancelled");
  }

  /**
   * Requests beside the others whose listener sleeps {@code ms} at each token until {@link
   * #release}: every step then takes that long, so that a test's requests are surely still running
   * when its clients hang up. One that ends while the brake holds is followed by another (a
   * request's tokens are bounded by the model's positions, a test's clients are not).
   */
  static final class Brake implements Scheduler.Listener {
    final java.util.concurrent.atomic.AtomicBoolean slow =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    final java.util.concurrent.atomic.AtomicInteger cancelled =
        new java.util.concurrent.atomic.AtomicInteger();
    private final int ms;
    private volatile Scheduler.Handle handle;

    Brake(int ms) {
      this.ms = ms;
      this.handle = submit();
    }

    private Scheduler.Handle submit() {
      return server
          .scheduler()
          .submit(new Scheduler.Request(new int[] {1, 7}, 240, Sampler.greedy(), true), this);
    }

    @Override
    public void onToken(int token) {
      if (slow.get()) {
        try {
          Thread.sleep(ms);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    @Override
    public void onFinish(Scheduler.Finish finish) {
      if (finish.reason() == Scheduler.FinishReason.CANCELLED) {
        cancelled.incrementAndGet();
      } else if (slow.get()) {
        handle = submit(); // (submit only queues: it may be called from the scheduler's thread)
      }
    }

    /** Steps run at full speed again; the brake's request is cancelled. */
    void release() {
      slow.set(false);
      handle.cancel();
    }
  }

  /**
   * A client that gives up on a request that is not streamed (its connection closed while the
   * server generates): the server's heartbeat (a space before the JSON, each second) finds it gone
   * and the request is cancelled, not generated to max_tokens for nobody.
   */
  @Test
  void aClientThatGivesUpOnAWholeResponseIsFoundGone() throws Exception {
    Scheduler.Stats before = server.scheduler().stats();
    Brake brake = new Brake(20);
    String body =
        "{\"model\": \"tiny\", \"prompt\": \"give up\", \"max_tokens\": 240,"
            + " \"temperature\": 0, \"ignore_eos\": true}";
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      socket
          .getOutputStream()
          .write(
              ("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      + "Content-Length: "
                      + bytes.length
                      + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().write(bytes);
      socket.getOutputStream().flush();
      Thread.sleep(300); // the request runs
    } // the client hangs up
    long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (server.scheduler().stats().cancelled() == before.cancelled()
        && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    Scheduler.Stats after = server.scheduler().stats();
    brake.release();
    // (the brake is cancelled only now: the first cancellation was the client's request)
    assertEquals(before.cancelled() + 1, after.cancelled(), "the request was cancelled");
    awaitIdle();
  }

  static Scheduler.Stats awaitIdle() throws Exception {
    return awaitIdle(server.scheduler());
  }

  /** The scheduler's stats once no request runs or waits (the stats follow each step). */
  static Scheduler.Stats awaitIdle(Scheduler scheduler) throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    Scheduler.Stats st = scheduler.stats();
    while ((st.running() > 0 || st.waiting() > 0) && System.nanoTime() < end) {
      Thread.sleep(10);
      st = scheduler.stats();
    }
    Thread.sleep(50);
    return scheduler.stats();
  }

  @Test
  void theStopMatcherHoldsBackWhatMayBecomeAStopSequence() {
    StopMatcher m = new StopMatcher(List.of("END", "xyz"));
    assertEquals("hello ", m.feed("hello E"));
    assertEquals("", m.feed("N"));
    assertEquals("ENs", m.feed("s"));
    assertEquals("a", m.feed("axy"));
    assertEquals("", m.feed("zzz"));
    assertTrue(m.stopped());
    assertEquals("", m.flush());
    StopMatcher none = new StopMatcher(List.of());
    assertEquals("abc", none.feed("abc"));
    StopMatcher tail = new StopMatcher(List.of("END"));
    assertEquals("", tail.feed("EN"));
    assertEquals("EN", tail.flush());
  }
}
