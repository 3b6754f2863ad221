package dev.flashattn4j.model;

import java.util.Arrays;

/**
 * Turns generated tokens into text as they come: each call decodes everything generated so far and
 * returns what is new, holding back while the text ends in an incomplete character (a byte-level
 * token may carry part of a UTF-8 sequence) — so that the pieces printed one after another are the
 * decoded whole.
 */
public final class TextStream {

  private final Tokenizer tokenizer;
  private int[] ids = new int[16];
  private int count;
  private int emitted;

  public TextStream(Tokenizer tokenizer) {
    if (tokenizer == null) {
      throw new IllegalArgumentException("tokenizer must not be null");
    }
    this.tokenizer = tokenizer;
  }

  /** Adds a token; returns the text it completes (possibly empty). */
  public String add(int token) {
    if (count == ids.length) {
      ids = Arrays.copyOf(ids, 2 * count);
    }
    ids[count++] = token;
    String text = tokenizer.decode(Arrays.copyOf(ids, count), true);
    if (text.endsWith("\uFFFD") || text.length() < emitted) {
      return "";
    }
    String piece = text.substring(emitted);
    emitted = text.length();
    return piece;
  }

  /**
   * The text {@link #add} has held back, for the end of a generation: an incomplete character at
   * the end, decoded as U+FFFD, as {@link #text()} ends.
   */
  public String finish() {
    String text = text();
    if (text.length() <= emitted) {
      return "";
    }
    String piece = text.substring(emitted);
    emitted = text.length();
    return piece;
  }

  /** The whole text so far. */
  public String text() {
    return tokenizer.decode(Arrays.copyOf(ids, count), true);
  }
}
