package dev.flashattn4j.tensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes safetensors files for tests (here and in the modules that use core's test jar): the layout
 * of Hugging Face's writer (tensors packed in order, the header padded with spaces to a multiple of
 * 8 bytes), and raw headers for files that lie.
 */
public final class SafetensorsFiles {

  private final Map<String, String> metadata = new LinkedHashMap<>();
  private final List<Object[]> tensors = new ArrayList<>();

  /** Adds a {@code __metadata__} entry. */
  public SafetensorsFiles meta(String key, String value) {
    metadata.put(key, value);
    return this;
  }

  /** Adds a float32 tensor. */
  public SafetensorsFiles f32(String name, float[] values, long... shape) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return raw(name, "F32", b.array(), shape);
  }

  /** Adds a bfloat16 tensor (rounded to nearest even from float32). */
  public SafetensorsFiles bf16(String name, float[] values, long... shape) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putShort(toBf16(v));
    }
    return raw(name, "BF16", b.array(), shape);
  }

  /** Adds a float16 tensor. */
  public SafetensorsFiles f16(String name, float[] values, long... shape) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putShort(Float.floatToFloat16(v));
    }
    return raw(name, "F16", b.array(), shape);
  }

  /** Adds a tensor of any dtype from its bytes. */
  public SafetensorsFiles raw(String name, String dtype, byte[] bytes, long... shape) {
    tensors.add(new Object[] {name, dtype, bytes, shape.clone()});
    return this;
  }

  /** The file's bytes. */
  public byte[] bytes() {
    StringBuilder h = new StringBuilder("{");
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    if (!metadata.isEmpty()) {
      h.append("\"__metadata__\":{");
      int i = 0;
      for (Map.Entry<String, String> e : metadata.entrySet()) {
        h.append(i++ > 0 ? "," : "").append(quote(e.getKey())).append(':');
        h.append(quote(e.getValue()));
      }
      h.append('}');
    }
    for (Object[] t : tensors) {
      byte[] bytes = (byte[]) t[2];
      long[] shape = (long[]) t[3];
      if (h.length() > 1) {
        h.append(',');
      }
      h.append(quote((String) t[0])).append(":{\"dtype\":\"").append(t[1]).append("\",\"shape\":[");
      for (int i = 0; i < shape.length; i++) {
        h.append(i > 0 ? "," : "").append(shape[i]);
      }
      h.append("],\"data_offsets\":[")
          .append(data.size())
          .append(',')
          .append(data.size() + bytes.length)
          .append("]}");
      data.writeBytes(bytes);
    }
    h.append('}');
    byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (header.length + 7) / 8 * 8;
    return withHeader(pad(header, padded), data.toByteArray());
  }

  /** Writes the file. */
  public Path write(Path file) throws IOException {
    return Files.write(file, bytes());
  }

  /** A file of an 8-byte length, this header text (not padded) and these data bytes. */
  public static byte[] file(String header, byte[] data) {
    return withHeader(header.getBytes(StandardCharsets.UTF_8), data);
  }

  private static byte[] withHeader(byte[] header, byte[] data) {
    ByteBuffer b =
        ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(header.length).put(header).put(data);
    return b.array();
  }

  private static byte[] pad(byte[] header, int length) {
    byte[] out = new byte[length];
    System.arraycopy(header, 0, out, 0, header.length);
    for (int i = header.length; i < length; i++) {
      out[i] = ' ';
    }
    return out;
  }

  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  /** float32 → bfloat16 bits, round to nearest even (PyTorch's conversion). */
  public static short toBf16(float x) {
    int bits = Float.floatToRawIntBits(x);
    if (Float.isNaN(x)) {
      return (short) ((bits >>> 16) | 0x0040);
    }
    return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
  }
}
