package dev.flashattn4j.viz.page;

import java.util.List;
import java.util.Map;

/**
 * A small JSON writer for the data the step-through page embeds: maps, lists, strings, numbers,
 * booleans, float and int arrays. Floats are written in their shortest exact form (the page rounds
 * them back to float32 with {@code Math.fround}); infinities, which JSON lacks, are written as the
 * strings "-inf" and "inf". The output is safe inside an HTML {@code <script>} element: {@code <}
 * is written as &#92;u003c, so no {@code </script>} can end the element early.
 */
public final class Json {

  private final StringBuilder out = new StringBuilder();

  private Json() {}

  /** {@code value} as JSON. */
  public static String write(Object value) {
    Json json = new Json();
    json.value(value);
    return json.out.toString();
  }

  private void value(Object v) {
    switch (v) {
      case null -> out.append("null");
      case String s -> string(s);
      case Boolean b -> out.append(b);
      case Float f -> number(f);
      case Double x -> number(x);
      case Number n -> out.append(n.longValue());
      case float[] a -> {
        out.append('[');
        for (int k = 0; k < a.length; k++) {
          if (k > 0) {
            out.append(',');
          }
          number(a[k]);
        }
        out.append(']');
      }
      case int[] a -> {
        out.append('[');
        for (int k = 0; k < a.length; k++) {
          out.append(k > 0 ? "," : "").append(a[k]);
        }
        out.append(']');
      }
      case List<?> list -> {
        out.append('[');
        for (int k = 0; k < list.size(); k++) {
          if (k > 0) {
            out.append(',');
          }
          value(list.get(k));
        }
        out.append(']');
      }
      case Map<?, ?> map -> {
        out.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : map.entrySet()) {
          if (!first) {
            out.append(',');
          }
          first = false;
          string(e.getKey().toString());
          out.append(':');
          value(e.getValue());
        }
        out.append('}');
      }
      default -> throw new IllegalArgumentException("no JSON form for " + v.getClass().getName());
    }
  }

  private void number(float f) {
    if (Float.isInfinite(f)) {
      string(f > 0 ? "inf" : "-inf");
    } else if (Float.isNaN(f)) {
      string("nan");
    } else if (f == Math.rint(f) && Math.abs(f) < 1e7) {
      out.append((long) f);
    } else {
      out.append(Float.toString(f));
    }
  }

  private void number(double x) {
    if (Double.isInfinite(x)) {
      string(x > 0 ? "inf" : "-inf");
    } else if (Double.isNaN(x)) {
      string("nan");
    } else {
      out.append(Double.toString(x));
    }
  }

  private void string(String s) {
    out.append('"');
    for (int k = 0; k < s.length(); k++) {
      char c = s.charAt(k);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '<' -> out.append("\\u003c");
        case '>' -> out.append("\\u003e");
        case '&' -> out.append("\\u0026");
        default -> {
          if (c < 0x20 || c == '\u2028' || c == '\u2029') {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
