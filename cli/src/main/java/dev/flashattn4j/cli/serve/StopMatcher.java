package dev.flashattn4j.cli.serve;

import java.util.List;

/**
 * OpenAI's {@code stop} sequences over streamed text: {@link #feed} returns the text that may be
 * sent now, holding back the end that could still become a stop sequence, and stops at the first
 * one (which is not sent).
 */
final class StopMatcher {

  private final List<String> stops;
  private final StringBuilder held = new StringBuilder();
  private boolean stopped;

  StopMatcher(List<String> stops) {
    this.stops = stops;
  }

  /** True once a stop sequence was seen. */
  boolean stopped() {
    return stopped;
  }

  /** Adds generated text; returns what can be sent now. */
  String feed(String piece) {
    if (stopped) {
      return "";
    }
    held.append(piece);
    if (stops.isEmpty()) {
      String out = held.toString();
      held.setLength(0);
      return out;
    }
    int first = -1;
    for (String s : stops) {
      int at = held.indexOf(s);
      if (at >= 0 && (first < 0 || at < first)) {
        first = at;
      }
    }
    if (first >= 0) {
      stopped = true;
      String out = held.substring(0, first);
      held.setLength(0);
      return out;
    }
    // keep the longest end of the text that begins some stop sequence
    String text = held.toString();
    int keep = 0;
    for (String s : stops) {
      for (int k = Math.min(s.length() - 1, text.length()); k > keep; k--) {
        if (text.regionMatches(text.length() - k, s, 0, k)) {
          keep = k;
          break;
        }
      }
    }
    held.delete(0, text.length() - keep);
    return text.substring(0, text.length() - keep);
  }

  /** The text held back, at the end of the generation (none when it stopped). */
  String flush() {
    String out = stopped ? "" : held.toString();
    held.setLength(0);
    return out;
  }
}
