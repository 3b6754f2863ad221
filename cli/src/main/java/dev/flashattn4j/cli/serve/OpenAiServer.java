package dev.flashattn4j.cli.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flashattn4j.model.ChatTemplate;
import dev.flashattn4j.model.Model;
import dev.flashattn4j.model.Sampler;
import dev.flashattn4j.model.Scheduler;
import dev.flashattn4j.model.TextStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.VirtualThreadPool;

/**
 * An OpenAI-compatible HTTP server on a {@link Model}: {@code GET /v1/models}, {@code POST
 * /v1/completions} and {@code POST /v1/chat/completions}, each streaming as server-sent events when
 * asked ({@code "stream": true}), on Eclipse Jetty. Every request is a generation in one {@link
 * Scheduler}: concurrent clients are batched together, step by step. A client that goes away (its
 * stream cannot be written, or its connection fails) has its generation cancelled and its pages
 * freed at the next step. Bad JSON, an unknown model, a parameter out of range, a prompt longer
 * than the model's positions: OpenAI's error object with a 4xx status, never a stack trace.
 * Besides: {@code GET /health} and {@code GET /stats} (the scheduler's counters, for load tests).
 *
 * <p>Each request runs on a virtual thread, which waits for its tokens; the model's work runs on
 * the scheduler's thread and the model's own workers.
 */
public final class OpenAiServer implements AutoCloseable {

  /** The largest request body read (a longer one is 413). */
  static final int MAX_BODY = 8 << 20;

  /** The most bytes of a too long body read (and dropped) before it is refused. */
  static final long DRAIN = 64L << 20;

  /**
   * How long a request goes without writing before it writes a heartbeat (an SSE comment, or a
   * space before a JSON body): a client that has gone is found by the failed write, and its request
   * cancelled, instead of generating to {@code max_tokens} for nobody.
   */
  static final long HEARTBEAT_NANOS = 1_000_000_000L;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom IDS = new SecureRandom();

  private final Model model;
  private final String modelId;
  private final Scheduler scheduler;
  private final Server server;
  private final ServerConnector connector;
  private final long created = System.currentTimeMillis() / 1000;
  private volatile byte[] apiKey; // null: no key asked for

  /**
   * A server (not started) for {@code model}, named {@code modelId} in the API.
   *
   * @param port the TCP port, 0 for any free one ({@link #port()} says which, once started)
   */
  public OpenAiServer(
      Model model, String modelId, Scheduler.Options options, String host, int port) {
    if (model == null || modelId == null || options == null || host == null) {
      throw new IllegalArgumentException("model, modelId, options and host must not be null");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0 to 65535, not " + port);
    }
    this.model = model;
    this.modelId = modelId;
    this.server = new Server(new VirtualThreadPool());
    this.connector = new ServerConnector(server);
    connector.setHost(host);
    connector.setPort(port);
    // a request may wait long for its first token under load: only a dead client is timed out
    connector.setIdleTimeout(30 * 60 * 1000L);
    server.addConnector(connector);
    server.setHandler(new Api());
    server.setStopTimeout(5_000);
    this.scheduler = new Scheduler(model, options);
  }

  /**
   * Asks every {@code /v1} request for {@code Authorization: Bearer KEY} (OpenAI's clients send
   * their {@code api_key} so); a request without it gets 401 and OpenAI's {@code invalid_api_key}
   * error. {@code /health} stays open. Null: no key (the default).
   */
  public void requireApiKey(String key) {
    if (key != null && key.isBlank()) {
      throw new IllegalArgumentException("an API key must not be blank");
    }
    this.apiKey = key == null ? null : ("Bearer " + key).getBytes(StandardCharsets.UTF_8);
  }

  /** Starts listening. */
  public void start() throws Exception {
    server.start();
  }

  /** The port it listens on (once started). */
  public int port() {
    return connector.getLocalPort();
  }

  /** The API's base, {@code http://host:port/v1}. */
  public URI baseUri() {
    String host = connector.getHost() == null ? "localhost" : connector.getHost();
    return URI.create(
        "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port() + "/v1");
  }

  public Scheduler scheduler() {
    return scheduler;
  }

  /** Blocks until the server stops. */
  public void join() throws InterruptedException {
    server.join();
  }

  /** Stops listening, ends the generations in progress (cancelled), stops the scheduler. */
  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      // stopping is best effort: the scheduler is closed below whatever happened
    } finally {
      scheduler.close();
    }
  }

  /** The routes. */
  private final class Api extends Handler.Abstract {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      String path = Request.getPathInContext(request);
      String method = request.getMethod();
      try {
        checkApiKey(request, path);
        switch (path) {
          case "/v1/models" -> {
            allow(method, "GET");
            ObjectNode list = JSON.createObjectNode().put("object", "list");
            list.putArray("data").add(modelObject());
            sendJson(response, callback, 200, list);
          }
          case "/v1/completions" -> {
            allow(method, "POST");
            generate(request, response, callback, false);
          }
          case "/v1/chat/completions" -> {
            allow(method, "POST");
            generate(request, response, callback, true);
          }
          case "/health" -> {
            allow(method, "GET");
            sendJson(response, callback, 200, JSON.createObjectNode().put("status", "ok"));
          }
          case "/stats" -> {
            allow(method, "GET");
            sendJson(response, callback, 200, JSON.valueToTree(scheduler.stats()));
          }
          default -> {
            if (path.startsWith("/v1/models/")) {
              allow(method, "GET");
              String id = path.substring("/v1/models/".length());
              if (!id.equals(modelId)) {
                throw ApiError.notFound("The model `" + id + "` does not exist", "model_not_found");
              }
              sendJson(response, callback, 200, modelObject());
            } else {
              throw ApiError.notFound("Unknown path " + method + " " + path, "unknown_url");
            }
          }
        }
      } catch (ApiError e) {
        sendError(response, callback, e);
      } catch (RuntimeException | Error e) {
        sendError(
            response,
            callback,
            new ApiError(500, "server_error", "internal error: " + e, null, null));
      }
      return true;
    }
  }

  private void checkApiKey(Request request, String path) {
    byte[] key = apiKey;
    if (key == null || !path.startsWith("/v1/")) {
      return;
    }
    String given = request.getHeaders().get(HttpHeader.AUTHORIZATION);
    // compared in constant time: the answer's timing does not say how much of a guess was right
    if (given == null
        || !java.security.MessageDigest.isEqual(key, given.getBytes(StandardCharsets.UTF_8))) {
      throw new ApiError(
          401,
          "invalid_request_error",
          given == null
              ? "You didn't provide an API key (Authorization: Bearer KEY)"
              : "Incorrect API key provided",
          null,
          "invalid_api_key");
    }
  }

  private static void allow(String method, String allowed) {
    if (!method.equals(allowed)) {
      throw new ApiError(
          405,
          "invalid_request_error",
          "Method " + method + " is not allowed here; use " + allowed,
          null,
          null);
    }
  }

  private ObjectNode modelObject() {
    return JSON.createObjectNode()
        .put("id", modelId)
        .put("object", "model")
        .put("created", created)
        .put("owned_by", "flashattn4j");
  }

  private static void sendJson(Response response, Callback callback, int status, JsonNode body) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    Content.Sink.write(response, true, body.toString(), callback);
  }

  private static void sendError(Response response, Callback callback, ApiError e) {
    if (response.isCommitted()) {
      callback.failed(e);
      return;
    }
    sendJson(response, callback, e.status, errorObject(e));
  }

  private static ObjectNode errorObject(ApiError e) {
    ObjectNode error = JSON.createObjectNode();
    ObjectNode inner = error.putObject("error");
    inner
        .put("message", e.getMessage())
        .put("type", e.type)
        .put("param", e.param)
        .put("code", e.code);
    return error;
  }

  /**
   * One request's body, parsed: an object, at most {@link #MAX_BODY} bytes. A longer body is read
   * to its end (up to {@value #DRAIN} bytes) before the 413, so that the client, still sending it,
   * gets the answer rather than a reset connection.
   */
  private static JsonNode body(Request request) {
    byte[] bytes;
    try (InputStream in = Content.Source.asInputStream(request)) {
      bytes = in.readNBytes(MAX_BODY + 1);
      if (bytes.length > MAX_BODY) {
        long drained = 0;
        byte[] sink = new byte[1 << 16];
        int n;
        while (drained < DRAIN && (n = in.read(sink)) > 0) {
          drained += n;
        }
        throw new ApiError(
            413,
            "invalid_request_error",
            "The request body is larger than " + MAX_BODY + " bytes",
            null,
            "request_too_large");
      }
    } catch (IOException e) {
      throw new ApiError(
          400,
          "invalid_request_error",
          "The request body could not be read: " + e.getMessage(),
          null,
          null);
    }
    JsonNode body;
    try {
      body = JSON.readTree(bytes);
    } catch (IOException e) {
      String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
      throw ApiError.invalid(
          "We could not parse the JSON body of your request: " + why.lines().findFirst().orElse(""),
          null);
    }
    if (body == null || !body.isObject()) {
      throw ApiError.invalid("The request body must be a JSON object", null);
    }
    return body;
  }

  private static String newId() {
    byte[] b = new byte[12];
    IDS.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /** A generation's event: a token of choice {@code choice}, or its end. */
  private record Event(int choice, int token, Scheduler.Finish finish) {}

  /** {@code /v1/completions} and {@code /v1/chat/completions}. */
  private void generate(Request request, Response response, Callback callback, boolean chat) {
    JsonNode body = body(request);
    JsonNode m = body.get("model");
    if (m == null || m.isNull()) {
      throw ApiError.invalid("you must provide a model parameter", "model");
    }
    if (!m.isTextual() || !m.asText().equals(modelId)) {
      throw ApiError.notFound(
          "The model `"
              + (m.isTextual() ? m.asText() : m.toString())
              + "` does not exist; this server serves `"
              + modelId
              + "`",
          "model_not_found");
    }
    Params params = Params.of(body, chat ? "max_completion_tokens" : "max_tokens");
    List<int[]> prompts = chat ? List.of(chatPrompt(body)) : completionPrompts(body);
    Integer keep = Params.optionalInt(body, "truncate_prompt_tokens");
    if (keep != null) {
      // vLLM's extension: keep the prompt's last tokens (the oldest go)
      if (keep < 1) {
        throw ApiError.invalid(
            "truncate_prompt_tokens must be at least 1, not " + keep, "truncate_prompt_tokens");
      }
      List<int[]> kept = new ArrayList<>();
      for (int[] p : prompts) {
        kept.add(p.length <= keep ? p : java.util.Arrays.copyOfRange(p, p.length - keep, p.length));
      }
      prompts = kept;
    }
    int positions = model.config().maxPositions();
    int[] maxNew = new int[prompts.size()];
    for (int i = 0; i < prompts.size(); i++) {
      int length = prompts.get(i).length;
      // a chat answer may take the rest of the context, as much of it as one request may hold
      int room = Math.min(positions, scheduler.maxTokensPerRequest());
      int want = params.maxTokens() != null ? params.maxTokens() : chat ? room - length : 16;
      if (length + (long) Math.max(want, 1) > positions) {
        throw ApiError.invalid(
            "This model's maximum context length is "
                + positions
                + " tokens. However, you requested "
                + (length + (long) Math.max(want, 1))
                + " tokens ("
                + length
                + " in the "
                + (chat ? "messages" : "prompt")
                + ", "
                + Math.max(want, 1)
                + " in the completion). Please reduce the length of the "
                + (chat ? "messages" : "prompt")
                + " or the completion.",
            chat ? "messages" : "prompt",
            "context_length_exceeded");
      }
      if (length + (long) want > scheduler.maxTokensPerRequest()) {
        throw ApiError.invalid(
            "This server's KV cache holds at most "
                + scheduler.maxTokensPerRequest()
                + " tokens per request (--kv-tokens); you requested "
                + (length + (long) want)
                + " ("
                + length
                + " in the "
                + (chat ? "messages" : "prompt")
                + ", "
                + want
                + " in the completion).",
            chat ? "messages" : "prompt",
            "context_length_exceeded");
      }
      maxNew[i] = want;
    }
    new Generation(request, response, callback, chat, params, prompts, maxNew).run();
  }

  /** The prompts of {@code /v1/completions}: a string, strings, token ids, or lists of them. */
  private List<int[]> completionPrompts(JsonNode body) {
    JsonNode p = body.get("prompt");
    if (p == null || p.isNull()) {
      throw ApiError.invalid("you must provide a prompt parameter", "prompt");
    }
    for (String unsupported : new String[] {"suffix", "logprobs"}) {
      JsonNode v = body.get(unsupported);
      if (v != null && !v.isNull() && !(v.isIntegralNumber() && v.asInt() == 0)) {
        throw ApiError.invalid(unsupported + " is not supported by this server", unsupported);
      }
    }
    if (Params.bool(body, "echo")) {
      throw ApiError.invalid("echo is not supported by this server", "echo");
    }
    JsonNode bestOf = body.get("best_of");
    if (bestOf != null && !bestOf.isNull() && !(bestOf.isIntegralNumber() && bestOf.asInt() == 1)) {
      throw ApiError.invalid("best_of is not supported by this server (only 1)", "best_of");
    }
    List<int[]> prompts = new ArrayList<>();
    if (p.isTextual()) {
      prompts.add(encode(p.asText(), true));
    } else if (p.isArray() && !p.isEmpty() && p.get(0).isIntegralNumber()) {
      prompts.add(tokenIds(p));
    } else if (p.isArray() && !p.isEmpty()) {
      for (JsonNode e : p) {
        if (e.isTextual()) {
          prompts.add(encode(e.asText(), true));
        } else if (e.isArray()) {
          prompts.add(tokenIds(e));
        } else {
          throw ApiError.invalid(
              "prompt must be a string, an array of strings, or token ids", "prompt");
        }
      }
    } else {
      throw ApiError.invalid(
          "prompt must be a non-empty string, array of strings, or token ids", "prompt");
    }
    if (prompts.size() > Params.MAX_N) {
      throw ApiError.invalid("at most " + Params.MAX_N + " prompts in one request", "prompt");
    }
    return prompts;
  }

  private int[] encode(String text, boolean special) {
    int[] ids = model.tokenizer().encode(text, special);
    if (ids.length == 0) {
      throw ApiError.invalid("the prompt must not be empty", "prompt");
    }
    return ids;
  }

  private int[] tokenIds(JsonNode array) {
    int vocab = model.config().vocabSize();
    int[] ids = new int[array.size()];
    if (ids.length == 0) {
      throw ApiError.invalid("a prompt of token ids must not be empty", "prompt");
    }
    for (int i = 0; i < ids.length; i++) {
      JsonNode t = array.get(i);
      if (!t.isIntegralNumber() || !t.canConvertToInt() || t.asInt() < 0 || t.asInt() >= vocab) {
        throw ApiError.invalid(
            "token ids must be integers from 0 to " + (vocab - 1) + ", not " + t, "prompt");
      }
      ids[i] = t.asInt();
    }
    return ids;
  }

  /** The prompt of {@code /v1/chat/completions}: the messages through the chat template. */
  private int[] chatPrompt(JsonNode body) {
    JsonNode messages = body.get("messages");
    if (messages == null || !messages.isArray() || messages.isEmpty()) {
      throw ApiError.invalid("messages must be a non-empty array", "messages");
    }
    for (String unsupported : new String[] {"logprobs", "tools", "functions"}) {
      JsonNode v = body.get(unsupported);
      if (v != null
          && !v.isNull()
          && !(v.isBoolean() && !v.asBoolean())
          && !(v.isArray() && v.isEmpty())) {
        throw ApiError.invalid(unsupported + " is not supported by this server", unsupported);
      }
    }
    ChatTemplate template =
        model
            .chatTemplate()
            .orElseThrow(
                () ->
                    ApiError.invalid(
                        "The model `"
                            + modelId
                            + "` has no chat template (tokenizer_config.json); use /v1/completions",
                        "messages"));
    List<Map<String, Object>> list = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      JsonNode msg = messages.get(i);
      String where = "messages[" + i + "]";
      if (!msg.isObject() || !msg.path("role").isTextual()) {
        throw ApiError.invalid(where + " must be an object with a role", where);
      }
      Map<String, Object> map = new LinkedHashMap<>();
      msg.properties()
          .forEach(e -> map.put(e.getKey(), JSON.convertValue(e.getValue(), Object.class)));
      JsonNode content = msg.get("content");
      if (content == null || content.isNull()) {
        map.put("content", "");
      } else if (content.isArray()) {
        StringBuilder text = new StringBuilder();
        for (JsonNode part : content) {
          if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
            throw ApiError.invalid(
                where + ": only text content parts are supported", where + ".content");
          }
          text.append(part.get("text").asText());
        }
        map.put("content", text.toString());
      } else if (!content.isTextual()) {
        throw ApiError.invalid(
            where + ".content must be a string or an array of text parts", where + ".content");
      }
      list.add(map);
    }
    String text;
    try {
      text = template.render(list, true, Map.of());
    } catch (IllegalArgumentException e) {
      throw ApiError.invalid(e.getMessage(), "messages");
    }
    return encode(text, false);
  }

  /** One request's choices, from submission to the last byte of the response. */
  private final class Generation {
    final Request request;
    final Response response;
    final Callback callback;
    final boolean chat;
    final Params params;
    final List<int[]> prompts;
    final int[] maxNew;
    final int choices;
    final String id = newId();
    final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    final List<Scheduler.Handle> handles = new ArrayList<>();

    Generation(
        Request request,
        Response response,
        Callback callback,
        boolean chat,
        Params params,
        List<int[]> prompts,
        int[] maxNew) {
      this.request = request;
      this.response = response;
      this.callback = callback;
      this.chat = chat;
      this.params = params;
      this.prompts = prompts;
      this.maxNew = maxNew;
      this.choices = prompts.size() * params.n();
    }

    void run() {
      submitAll();
      request.addFailureListener(failure -> cancelAll());
      String[] finish = new String[choices];
      int[] tokens = new int[choices];
      TextStream[] streams = new TextStream[choices];
      StopMatcher[] stops = new StopMatcher[choices];
      StringBuilder[] whole = new StringBuilder[choices];
      for (int c = 0; c < choices; c++) {
        streams[c] = new TextStream(model.tokenizer());
        stops[c] = new StopMatcher(params.stop());
        whole[c] = new StringBuilder();
      }
      int open = choices;
      String error = null;
      try {
        if (params.stream()) {
          response.setStatus(200);
          response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream");
          response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
          if (chat) {
            for (int c = 0; c < choices; c++) {
              ObjectNode delta =
                  JSON.createObjectNode().put("role", "assistant").put("content", "");
              send(chunk(c, delta, null));
            }
          }
        }
        long lastWrite = System.nanoTime();
        while (open > 0) {
          long wait = HEARTBEAT_NANOS - (System.nanoTime() - lastWrite);
          Event e = wait > 0 ? events.poll(wait, TimeUnit.NANOSECONDS) : null;
          if (e == null) {
            heartbeat(); // fails with an IOException when the client has gone
            lastWrite = System.nanoTime();
            continue;
          }
          int c = e.choice;
          String out;
          if (e.finish == null) {
            if (stops[c].stopped()) {
              continue; // tokens after a stop sequence, before the cancel took effect
            }
            tokens[c]++;
            out = stops[c].feed(streams[c].add(e.token));
            if (stops[c].stopped()) {
              handles.get(c).cancel();
              finish[c] = "stop";
            }
          } else {
            open--;
            out = stops[c].feed(streams[c].finish());
            out += stops[c].flush();
            if (finish[c] == null) {
              finish[c] =
                  switch (e.finish.reason()) {
                    case STOP -> "stop";
                    case LENGTH -> "length";
                    case CANCELLED -> "cancelled";
                    case ERROR -> "error";
                  };
            }
            if (e.finish.reason() == Scheduler.FinishReason.ERROR && error == null) {
              error = e.finish.error();
            }
          }
          whole[c].append(out);
          if (params.stream()) { // an event per token, even when its text is held back
            lastWrite = System.nanoTime();
            String reason = e.finish == null ? null : finish[c];
            send(chat ? chatChunk(c, out, reason) : chunk(c, textDelta(out), reason));
          }
        }
        if (error != null && !params.stream()) {
          throw new ApiError(500, "server_error", error, null, null);
        }
        if (params.stream()) {
          if (error != null) {
            ApiError a = new ApiError(500, "server_error", error, null, null);
            send("data: " + errorObject(a) + "\n\n", false);
          }
          if (params.includeUsage()) {
            ObjectNode u = envelope(chat ? "chat.completion.chunk" : "text_completion");
            u.putArray("choices");
            u.set("usage", usage(tokens));
            send("data: " + u + "\n\n", false);
          }
          send("data: [DONE]\n\n", true);
          callback.succeeded();
        } else if (response.isCommitted()) {
          // heartbeats went first: the object follows them in the same body
          send(response(whole, finish, tokens).toString(), true);
          callback.succeeded();
        } else {
          sendJson(response, callback, 200, response(whole, finish, tokens));
        }
      } catch (IOException e) {
        cancelAll(); // the client went away: its pages go back at the next step
        callback.failed(e);
      } catch (InterruptedException e) {
        cancelAll();
        Thread.currentThread().interrupt();
        callback.failed(e);
      } catch (ApiError e) {
        cancelAll();
        if (response.isCommitted() && !params.stream()) {
          // after heartbeats the status is sent: the error object is the body
          try {
            send(errorObject(e).toString(), true);
            callback.succeeded();
          } catch (IOException x) {
            callback.failed(x);
          }
        } else {
          sendError(response, callback, e);
        }
      } catch (RuntimeException e) {
        cancelAll();
        throw e;
      }
    }

    private void submitAll() {
      long base = params.seed() != null ? params.seed() : IDS.nextLong();
      try {
        for (int c = 0; c < choices; c++) {
          int[] prompt = prompts.get(c / params.n());
          Sampler sampler =
              params.temperature() == 0
                  ? Sampler.greedy()
                  : Sampler.of((float) params.temperature(), (float) params.topP(), base)
                      .forSequence(c);
          int choice = c;
          handles.add(
              scheduler.submit(
                  new Scheduler.Request(
                      prompt, maxNew[c / params.n()], sampler, params.ignoreEos()),
                  new Scheduler.Listener() {
                    @Override
                    public void onToken(int token) {
                      events.add(new Event(choice, token, null));
                    }

                    @Override
                    public void onFinish(Scheduler.Finish finish) {
                      events.add(new Event(choice, 0, finish));
                    }
                  }));
        }
      } catch (IllegalArgumentException e) {
        cancelAll();
        throw ApiError.invalid(e.getMessage(), chat ? "messages" : "prompt");
      } catch (IllegalStateException e) {
        cancelAll();
        throw new ApiError(
            503, "server_error", "The server is overloaded: " + e.getMessage(), null, "overloaded");
      }
    }

    void cancelAll() {
      for (Scheduler.Handle h : handles) {
        h.cancel();
      }
    }

    ObjectNode envelope(String object) {
      return JSON.createObjectNode()
          .put("id", (chat ? "chatcmpl-" : "cmpl-") + id)
          .put("object", object)
          .put("created", System.currentTimeMillis() / 1000)
          .put("model", modelId);
    }

    ObjectNode textDelta(String text) {
      return JSON.createObjectNode().put("text", text);
    }

    String chatChunk(int c, String text, String finish) {
      ObjectNode delta = JSON.createObjectNode();
      if (finish == null || !text.isEmpty()) {
        delta.put("content", text);
      }
      return chunk(c, delta, finish);
    }

    /** A streamed event: one choice's delta (chat) or text (completions). */
    String chunk(int c, ObjectNode delta, String finish) {
      ObjectNode o = envelope(chat ? "chat.completion.chunk" : "text_completion");
      ArrayNode array = o.putArray("choices");
      ObjectNode choice = array.addObject().put("index", c);
      if (chat) {
        choice.set("delta", delta);
      } else {
        choice.put("text", delta.path("text").asText());
      }
      choice.putNull("logprobs");
      choice.put("finish_reason", finish);
      return "data: " + o + "\n\n";
    }

    /**
     * Writes something the client ignores, so that a client that has gone is found (the write
     * fails) while its request waits or generates: an SSE comment in a stream; before a JSON body,
     * a space (JSON allows leading whitespace), which sends the 200 status first.
     */
    void heartbeat() throws IOException {
      if (params.stream()) {
        send(": keep-alive\n\n");
        return;
      }
      if (!response.isCommitted()) {
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
      }
      send(" ");
    }

    void send(String event) throws IOException {
      send(event, false);
    }

    void send(String event, boolean last) throws IOException {
      try (Blocker.Callback b = Blocker.callback()) {
        response.write(last, ByteBuffer.wrap(event.getBytes(StandardCharsets.UTF_8)), b);
        b.block();
      }
    }

    ObjectNode usage(int[] tokens) {
      long prompt = 0;
      for (int[] p : prompts) {
        prompt += p.length;
      }
      long completion = 0;
      for (int t : tokens) {
        completion += t;
      }
      return JSON.createObjectNode()
          .put("prompt_tokens", prompt)
          .put("completion_tokens", completion)
          .put("total_tokens", prompt + completion);
    }

    ObjectNode response(StringBuilder[] text, String[] finish, int[] tokens) {
      ObjectNode o = envelope(chat ? "chat.completion" : "text_completion");
      ArrayNode array = o.putArray("choices");
      for (int c = 0; c < choices; c++) {
        ObjectNode choice = array.addObject().put("index", c);
        if (chat) {
          choice.putObject("message").put("role", "assistant").put("content", text[c].toString());
        } else {
          choice.put("text", text[c].toString());
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finish[c]);
      }
      o.set("usage", usage(tokens));
      return o;
    }
  }
}
