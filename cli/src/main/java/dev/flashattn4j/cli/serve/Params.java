package dev.flashattn4j.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The sampling parameters common to {@code /v1/completions} and {@code /v1/chat/completions},
 * checked as OpenAI checks them (the ranges, the types), with the parameters this server does not
 * honour refused unless they are at their neutral value.
 *
 * @param maxTokens the most new tokens, or null for the endpoint's default
 * @param temperature 0 to 2 (OpenAI's default 1)
 * @param topP (0, 1]
 * @param n choices per prompt, 1 to {@value #MAX_N}
 * @param seed the sampler's seed, or null for a random one
 * @param stop up to 4 stop sequences
 * @param stream server-sent events
 * @param includeUsage a last event with the usage ({@code stream_options.include_usage})
 * @param ignoreEos go on after EOS (an extension, as vLLM's)
 */
record Params(
    Integer maxTokens,
    double temperature,
    double topP,
    int n,
    Long seed,
    List<String> stop,
    boolean stream,
    boolean includeUsage,
    boolean ignoreEos) {

  static final int MAX_N = 16;

  static Params of(JsonNode body, String maxTokensName) {
    Integer maxTokens = optionalInt(body, maxTokensName);
    if (maxTokens == null && !maxTokensName.equals("max_tokens")) {
      maxTokens = optionalInt(body, "max_tokens");
    }
    if (maxTokens != null && maxTokens < 1) {
      throw ApiError.invalid(
          maxTokensName + " must be at least 1, not " + maxTokens, maxTokensName);
    }
    double temperature = number(body, "temperature", 1, 0, 2);
    double topP = number(body, "top_p", 1, 0, 1);
    if (!(topP > 0)) {
      throw ApiError.invalid("top_p must be greater than 0", "top_p");
    }
    Integer n = optionalInt(body, "n");
    if (n == null) {
      n = 1;
    }
    if (n < 1 || n > MAX_N) {
      throw ApiError.invalid("n must be between 1 and " + MAX_N + ", not " + n, "n");
    }
    Long seed = null;
    JsonNode s = body.get("seed");
    if (s != null && !s.isNull()) {
      if (!s.isIntegralNumber() || !s.canConvertToLong()) {
        throw ApiError.invalid("seed must be an integer", "seed");
      }
      seed = s.asLong();
    }
    List<String> stop = new ArrayList<>();
    JsonNode st = body.get("stop");
    if (st != null && !st.isNull()) {
      if (st.isTextual()) {
        stop.add(st.asText());
      } else if (st.isArray() && st.size() <= 4) {
        for (JsonNode e : st) {
          if (!e.isTextual()) {
            throw ApiError.invalid("stop must be a string or an array of strings", "stop");
          }
          stop.add(e.asText());
        }
      } else {
        throw ApiError.invalid("stop must be a string or an array of up to 4 strings", "stop");
      }
      if (stop.stream().anyMatch(String::isEmpty)) {
        throw ApiError.invalid("a stop sequence must not be empty", "stop");
      }
    }
    boolean stream = bool(body, "stream");
    boolean includeUsage = false;
    JsonNode so = body.get("stream_options");
    if (so != null && !so.isNull()) {
      if (!so.isObject()) {
        throw ApiError.invalid("stream_options must be an object", "stream_options");
      }
      if (!stream) {
        throw ApiError.invalid(
            "stream_options is only allowed when stream is true", "stream_options");
      }
      includeUsage = bool(so, "include_usage");
    }
    for (String p : new String[] {"presence_penalty", "frequency_penalty"}) {
      if (number(body, p, 0, -2, 2) != 0) {
        throw ApiError.invalid(p + " is not supported by this server (only 0)", p);
      }
    }
    JsonNode bias = body.get("logit_bias");
    if (bias != null && !bias.isNull() && !(bias.isObject() && bias.isEmpty())) {
      throw ApiError.invalid("logit_bias is not supported by this server", "logit_bias");
    }
    return new Params(
        maxTokens,
        temperature,
        topP,
        n,
        seed,
        stop,
        stream,
        includeUsage,
        bool(body, "ignore_eos"));
  }

  static Integer optionalInt(JsonNode body, String name) {
    JsonNode v = body.get(name);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw ApiError.invalid(name + " must be an integer, not " + v, name);
    }
    return v.asInt();
  }

  static double number(JsonNode body, String name, double absent, double min, double max) {
    JsonNode v = body.get(name);
    if (v == null || v.isNull()) {
      return absent;
    }
    if (!v.isNumber()) {
      throw ApiError.invalid(name + " must be a number, not " + v, name);
    }
    double d = v.asDouble();
    if (!(d >= min && d <= max)) {
      throw ApiError.invalid(name + " must be between " + min + " and " + max + ", not " + v, name);
    }
    return d;
  }

  static boolean bool(JsonNode body, String name) {
    JsonNode v = body.get(name);
    if (v == null || v.isNull()) {
      return false;
    }
    if (!v.isBoolean()) {
      throw ApiError.invalid(name + " must be a boolean, not " + v, name);
    }
    return v.asBoolean();
  }
}
