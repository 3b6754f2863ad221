package dev.flashattn4j.model;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A checkpoint's {@code tokenizer.json} through Hugging Face's own tokenizers library (Rust, by
 * DJL's binding {@code ai.djl.huggingface:tokenizers}, whose jar carries the native library): the
 * same ids as Python's {@code tokenizers}, no truncation, no padding.
 *
 * <p>Offline and quiet by itself: before DJL's first use this class sets the system property {@code
 * ai.djl.offline=true} (DJL then sends no telemetry ping and downloads no native library; its jar
 * carries the ones for Linux, macOS and Windows on x86-64 and ARM) and {@code
 * slf4j.internal.verbosity=ERROR} (SLF4J then does not print "No SLF4J providers were found" when
 * the application has no logging binding), each only when the caller has not set it. An application
 * that wants DJL's logs adds an SLF4J binding (slf4j-simple, Logback) and its own verbosity. DJL
 * extracts the native library to {@code ~/.djl.ai/tokenizers} (or {@code $DJL_CACHE_DIR}) on first
 * use.
 */
public final class Tokenizer implements AutoCloseable {

  private final HuggingFaceTokenizer hf;
  private final int vocabSize;

  private Tokenizer(HuggingFaceTokenizer hf, int vocabSize) {
    this.hf = hf;
    this.vocabSize = vocabSize;
  }

  /**
   * Loads {@code tokenizer.json}.
   *
   * @param vocabSize the model's vocabulary: every id the tokenizer gives must be below it
   * @throws NoSuchFileException when the file is missing
   * @throws ModelFormatException when the tokenizers library cannot read it
   */
  public static Tokenizer load(Path file, int vocabSize) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "no tokenizer.json");
    }
    // strict JSON first: the tokenizers library (Rust, through JNI) aborts the whole JVM on some
    // malformed files (a control character inside a string made it panic: issue 19's fuzzer)
    JsonNode root;
    try {
      root =
          new ObjectMapper()
              .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
              .readTree(file.toFile());
    } catch (JsonProcessingException e) {
      throw new ModelFormatException(
          file, "not valid JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""), e);
    }
    if (root == null || !root.isObject()) {
      throw new ModelFormatException(file, "not a JSON object");
    }
    int largest = largestId(root);
    if (largest >= vocabSize) {
      throw new ModelFormatException(
          file,
          "holds token id "
              + largest
              + ", outside the model's vocabulary of "
              + vocabSize
              + " (vocab_size in config.json)");
    }
    quietAndOffline();
    try {
      HuggingFaceTokenizer hf =
          HuggingFaceTokenizer.newInstance(
              file,
              Map.of(
                  "addSpecialTokens", "true",
                  "truncation", "false",
                  "padding", "false",
                  "maxLength", "-1"));
      return new Tokenizer(hf, vocabSize);
    } catch (RuntimeException e) {
      String why = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().get();
      throw new ModelFormatException(file, "the tokenizers library cannot read it: " + why, e);
    }
  }

  /**
   * A tokenizer given as tokenizer.json's JSON (one built from a GGUF file's {@code
   * tokenizer.ggml.*} metadata); errors name {@code source}.
   */
  static Tokenizer fromJson(Path source, JsonNode root, int vocabSize) throws IOException {
    int largest = largestId(root);
    if (largest >= vocabSize) {
      throw new ModelFormatException(
          source, "holds token id " + largest + ", outside the model's vocabulary of " + vocabSize);
    }
    quietAndOffline();
    try {
      HuggingFaceTokenizer hf =
          HuggingFaceTokenizer.newInstance(
              new java.io.ByteArrayInputStream(
                  root.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)),
              Map.of(
                  "addSpecialTokens", "true",
                  "truncation", "false",
                  "padding", "false",
                  "maxLength", "-1"));
      return new Tokenizer(hf, vocabSize);
    } catch (RuntimeException e) {
      String why = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().get();
      throw new ModelFormatException(
          source, "the tokenizers library cannot read its tokenizer: " + why, e);
    }
  }

  /**
   * The largest token id tokenizer.json holds: its added tokens' ids and its model's vocabulary (an
   * object of token → id, or Unigram's list, where the index is the id). Checked at load, so that
   * no text can later give an id past the model's embeddings (issue 19: an IllegalStateException at
   * the first encode).
   */
  private static int largestId(JsonNode root) {
    long largest = -1;
    JsonNode added = root == null ? null : root.get("added_tokens");
    if (added != null && added.isArray()) {
      for (JsonNode t : added) {
        largest = Math.max(largest, t.path("id").asLong(-1));
      }
    }
    JsonNode vocab = root == null ? null : root.path("model").get("vocab");
    if (vocab != null && vocab.isObject()) {
      for (JsonNode id : vocab) {
        largest = Math.max(largest, id.asLong(-1));
      }
    } else if (vocab != null && vocab.isArray()) {
      largest = Math.max(largest, vocab.size() - 1L);
    }
    return (int) Math.min(Integer.MAX_VALUE, largest);
  }

  /** The ids of a text, with the special tokens the tokenizer adds (e.g. BOS) when asked. */
  public int[] encode(String text, boolean addSpecialTokens) {
    if (text == null) {
      throw new IllegalArgumentException("text must not be null");
    }
    long[] ids = hf.encode(text, addSpecialTokens, false).getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= vocabSize) {
        throw new IllegalStateException(
            "the tokenizer gave id " + ids[i] + ", outside the model's vocabulary of " + vocabSize);
      }
      out[i] = (int) ids[i];
    }
    return out;
  }

  /** The text of some ids. */
  public String decode(int[] ids, boolean skipSpecialTokens) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      l[i] = ids[i];
    }
    return hf.decode(l, skipSpecialTokens);
  }

  @Override
  public void close() {
    hf.close();
  }

  /** DJL offline, SLF4J's own warnings off: each only where the caller has not chosen. */
  private static void quietAndOffline() {
    if (System.getProperty("ai.djl.offline") == null && System.getenv("DJL_OFFLINE") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    if (System.getProperty("slf4j.internal.verbosity") == null) {
      System.setProperty("slf4j.internal.verbosity", "ERROR");
    }
  }
}
