package dev.flashattn4j.model;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (versions 2 and 3, little-endian; ggml's docs/gguf.md), mapped read-only: the header,
 * the metadata (scalars, strings and arrays of them), the tensor infos and their aligned data.
 * Tensors of type F32, F16, BF16, Q8_0 and Q4_0 can be read; the others are named in the error when
 * a model needs them.
 *
 * <p>Everything is checked before anything is allocated by it: every count against the bytes that
 * could hold it, every string and array length against the bytes left, every tensor's dimensions,
 * type, alignment and extent against the data section. A damaged file is a one-line {@link
 * ModelFormatException} naming it, never an OutOfMemoryError.
 */
final class Gguf implements AutoCloseable {

  /** "GGUF" read as a little-endian u32. */
  static final int MAGIC = 0x46554747;

  /** The alignment of the data section and of every tensor when general.alignment is absent. */
  static final int DEFAULT_ALIGNMENT = 32;

  private static final ValueLayout.OfInt U32 =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong U64 =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort I16 =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfFloat F32 =
      ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  /** The tensor types this reader knows: GGML's type id, block size in values and in bytes. */
  enum Type {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q8_0(8, 32, 34),
    BF16(30, 1, 2);

    final int id;
    final int blockValues;
    final int blockBytes;

    Type(int id, int blockValues, int blockBytes) {
      this.id = id;
      this.blockValues = blockValues;
      this.blockBytes = blockBytes;
    }

    static Type of(int id) {
      for (Type t : values()) {
        if (t.id == id) {
          return t;
        }
      }
      return null;
    }
  }

  /**
   * One tensor: GGML's dimensions (ne[0] is the fastest: the inputs of a matrix) and where its
   * bytes lie in the data section.
   */
  record Tensor(String name, long[] ne, Type type, int typeId, long offset, long bytes) {
    long elements() {
      long n = 1;
      for (long d : ne) {
        n *= d;
      }
      return n;
    }

    /** As GGML prints it: {@code Q8_0 [64, 320]} (ne order). */
    String describe() {
      return (type == null ? "GGML type " + typeId : type.toString()) + " " + Arrays.toString(ne);
    }
  }

  private final Path file;
  private final Arena arena;
  private final MemorySegment data;
  private final Map<String, Object> metadata;
  private final Map<String, Tensor> tensors;

  private Gguf(
      Path file,
      Arena arena,
      MemorySegment data,
      Map<String, Object> metadata,
      Map<String, Tensor> tensors) {
    this.file = file;
    this.arena = arena;
    this.data = data;
    this.metadata = metadata;
    this.tensors = tensors;
  }

  /**
   * Maps and checks a GGUF file.
   *
   * @throws ModelFormatException when it is not a GGUF file this reader can use (one line)
   * @throws NoSuchFileException when there is no such file
   */
  static Gguf open(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 24) {
        throw new ModelFormatException(
            file, "not a GGUF file: " + size + " bytes, fewer than the 24 of the header");
      }
      Arena arena = Arena.ofShared();
      try {
        MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        return new Parser(file, all).parse(arena);
      } catch (IOException | RuntimeException | Error e) {
        arena.close();
        throw e;
      }
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(file.toString(), null, "no such file");
    }
  }

  Path file() {
    return file;
  }

  Map<String, Tensor> tensors() {
    return tensors;
  }

  /**
   * A metadata value: Long (every integer type), Double, Boolean, String, or an array of them as
   * long[] (integers and booleans), double[] or String[]; null when absent.
   */
  Object meta(String key) {
    return metadata.get(key);
  }

  /** A string value, or null when absent or not a string. */
  String metaString(String key) {
    return metadata.get(key) instanceof String s ? s : null;
  }

  /** An integer value, or -1 when absent or not an integer. */
  long metaLong(String key) {
    return metadata.get(key) instanceof Long l ? l : -1;
  }

  /** A string array, or null when absent or not one. */
  String[] metaStrings(String key) {
    return metadata.get(key) instanceof String[] a ? a : null;
  }

  /** An integer array, or null when absent or not one. */
  long[] metaLongs(String key) {
    return metadata.get(key) instanceof long[] a ? a : null;
  }

  /** A number, or NaN when absent or not a number. */
  double metaDouble(String key) {
    Object v = metadata.get(key);
    return v instanceof Long l ? l : v instanceof Double d ? d : Double.NaN;
  }

  /** A tensor's values as float32, row-major over GGML's ne (ne[0] fastest), widened exactly. */
  float[] floats(Tensor t) {
    int n = elements(t);
    float[] out = new float[n];
    MemorySegment s = segment(t);
    switch (t.type) {
      case F32 -> MemorySegment.copy(s, F32, 0, out, 0, n);
      case F16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = Float.float16ToFloat(s.get(I16, 2L * i));
        }
      }
      case BF16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = Float.intBitsToFloat(s.get(I16, 2L * i) << 16);
        }
      }
      case Q8_0, Q4_0 -> {
        return q8(t).dequantize();
      }
    }
    return out;
  }

  /** A BF16 tensor's patterns as stored. */
  short[] bits16(Tensor t) {
    if (t.type != Type.BF16) {
      throw new IllegalStateException(t.name + " is " + t.type + ", not BF16");
    }
    short[] out = new short[elements(t)];
    MemorySegment.copy(segment(t), I16, 0, out, 0, out.length);
    return out;
  }

  /**
   * A Q8_0 or Q4_0 matrix as {@link Q8Rows} (ne[1] rows of ne[0] inputs): Q8_0 as stored, Q4_0's
   * nibbles q ∈ [0, 16) as q − 8 with the block's scale (the same weights, (q − 8)·d).
   */
  Q8Rows q8(Tensor t) {
    byte[] q = new byte[elements(t)];
    int inputs = (int) t.ne[0];
    int outputs = q.length / inputs;
    int blocks = Q8Rows.blocks(inputs);
    short[] d = new short[outputs * blocks];
    MemorySegment s = segment(t);
    long at = 0;
    for (int b = 0; b < outputs * blocks; b++) {
      d[b] = s.get(I16, at);
      int base = b * Q8Rows.BLOCK;
      if (t.type == Type.Q8_0) {
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, at + 2, q, base, Q8Rows.BLOCK);
      } else {
        // Q4_0: byte j holds value j in its low nibble and value j + 16 in its high one
        for (int j = 0; j < 16; j++) {
          int v = s.get(ValueLayout.JAVA_BYTE, at + 2 + j) & 0xFF;
          q[base + j] = (byte) ((v & 0x0F) - 8);
          q[base + j + 16] = (byte) ((v >> 4) - 8);
        }
      }
      at += t.type.blockBytes;
    }
    return new Q8Rows(outputs, inputs, q, d);
  }

  /** Whether two tensors hold the same type, dimensions and bytes. */
  boolean sameData(Tensor a, Tensor b) {
    return a.type == b.type && Arrays.equals(a.ne, b.ne) && segment(a).mismatch(segment(b)) == -1;
  }

  private MemorySegment segment(Tensor t) {
    if (!arena.scope().isAlive()) {
      throw new IllegalStateException(file + " was closed");
    }
    return data.asSlice(t.offset, t.bytes);
  }

  private int elements(Tensor t) {
    if (t.elements() > Integer.MAX_VALUE - 8) {
      throw new ModelFormatException(
          file,
          "tensor \"" + t.name + "\" has " + t.elements() + " elements, more than an array holds");
    }
    return (int) t.elements();
  }

  /** Unmaps the file. Idempotent. */
  @Override
  public void close() {
    if (arena.scope().isAlive()) {
      arena.close();
    }
  }

  /** Reads the header, metadata and tensor infos with a cursor that checks every read. */
  private static final class Parser {
    private final Path file;
    private final MemorySegment all;
    private final long size;
    private long at;

    Parser(Path file, MemorySegment all) {
      this.file = file;
      this.all = all;
      this.size = all.byteSize();
    }

    private ModelFormatException bad(String problem) {
      return new ModelFormatException(file, problem);
    }

    private void need(long bytes, String what) {
      if (bytes < 0 || bytes > size - at) {
        throw bad(
            "truncated or damaged GGUF file: "
                + what
                + " needs "
                + Long.toUnsignedString(bytes)
                + " bytes at offset "
                + at
                + ", the file has "
                + size);
      }
    }

    private int u32(String what) {
      need(4, what);
      int v = all.get(U32, at);
      at += 4;
      return v;
    }

    private long u64(String what) {
      need(8, what);
      long v = all.get(U64, at);
      at += 8;
      return v;
    }

    private String string(String what) {
      long n = u64(what + "'s length");
      need(n, what);
      byte[] b = new byte[(int) n];
      MemorySegment.copy(all, ValueLayout.JAVA_BYTE, at, b, 0, (int) n);
      at += n;
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .decode(java.nio.ByteBuffer.wrap(b))
            .toString();
      } catch (CharacterCodingException e) {
        throw bad(what + " at offset " + (at - n) + " is not UTF-8");
      }
    }

    /** A count, refused when the rest of the file could not hold that many items of minBytes. */
    private long count(String what, long minBytes) {
      long n = u64(what);
      if (n < 0 || n > (size - at) / minBytes) {
        throw bad(
            "truncated or damaged GGUF file: "
                + what
                + " is "
                + Long.toUnsignedString(n)
                + ", more than the "
                + (size - at)
                + " bytes left could hold");
      }
      return n;
    }

    Gguf parse(Arena arena) {
      if (size < 4 || all.get(U32, 0) != MAGIC) {
        throw bad(
            "not a GGUF file: it does not start with \"GGUF\""
                + (size < 4 ? " (" + size + " bytes)" : ""));
      }
      at = 4;
      int version = u32("the version");
      if (version != 2 && version != 3) {
        throw bad(
            "GGUF version "
                + Integer.toUnsignedString(version)
                + " is not supported (2 and 3 are)"
                + (Integer.reverseBytes(version) == 3 ? ": a big-endian file?" : ""));
      }
      // a tensor info is at least 8 + 4 + 8 + 4 + 8 bytes, a metadata pair 8 + 4 + 1
      long tensorCount = count("the tensor count", 32);
      long kvCount = count("the metadata count", 13);
      Map<String, Object> meta = new LinkedHashMap<>();
      for (long i = 0; i < kvCount; i++) {
        String key = string("metadata key " + i);
        int type = u32("the type of " + key);
        Object value = value(key, type, 0);
        if (value != null) {
          meta.put(key, value);
        }
      }
      long alignment = DEFAULT_ALIGNMENT;
      if (meta.containsKey("general.alignment")) {
        Object a = meta.get("general.alignment");
        if (!(a instanceof Long l) || l <= 0 || l > 1 << 20 || Long.bitCount(l) != 1) {
          throw bad("general.alignment is " + a + ", not a power of two");
        }
        alignment = (Long) a;
      }
      Map<String, Tensor> infos = new LinkedHashMap<>();
      // lists, not arrays sized by the count: a damaged count fails at the first read past the end
      List<Long> offsets = new ArrayList<>();
      List<String> names = new ArrayList<>();
      List<long[]> nes = new ArrayList<>();
      List<Integer> types = new ArrayList<>();
      for (long i = 0; i < tensorCount; i++) {
        String name = string("the name of tensor " + i);
        int n = u32("the dimension count of " + name);
        if (n < 1 || n > 4) {
          throw bad("tensor \"" + name + "\" has " + Integer.toUnsignedString(n) + " dimensions");
        }
        long[] ne = new long[n];
        for (int d = 0; d < n; d++) {
          ne[d] = u64("a dimension of " + name);
          if (ne[d] < 1 || ne[d] > 1L << 40) {
            throw bad(
                "tensor \""
                    + name
                    + "\" has dimension "
                    + Long.toUnsignedString(ne[d])
                    + " (absurd or zero)");
          }
        }
        names.add(name);
        nes.add(ne);
        types.add(u32("the type of " + name));
        offsets.add(u64("the offset of " + name));
      }
      long dataStart = (at + alignment - 1) / alignment * alignment;
      if (dataStart > size) {
        throw bad("truncated GGUF file: the data section would start at " + dataStart);
      }
      long dataBytes = size - dataStart;
      for (int i = 0; i < names.size(); i++) {
        String name = names.get(i);
        long[] ne = nes.get(i);
        Type type = Type.of(types.get(i));
        long elements = 1;
        for (long d : ne) {
          elements = Math.multiplyHigh(elements, d) != 0 ? -1 : elements * d;
          if (elements < 0 || elements > 1L << 40) {
            throw bad("tensor \"" + name + "\" has absurdly many elements");
          }
        }
        if (infos.containsKey(name)) {
          throw bad("tensor \"" + name + "\" is listed twice");
        }
        if (type == null) {
          // kept, named: a model that needs it says so; one that does not never reads it
          infos.put(name, new Tensor(name, ne, null, types.get(i), offsets.get(i), 0));
          continue;
        }
        if (ne[0] % type.blockValues != 0) {
          throw bad(
              "tensor \""
                  + name
                  + "\" is "
                  + type
                  + " with rows of "
                  + ne[0]
                  + " values, not a whole number of "
                  + type.blockValues
                  + "-value blocks");
        }
        long bytes = elements / type.blockValues * type.blockBytes;
        long off = offsets.get(i);
        if (off < 0 || off % alignment != 0 || off > dataBytes || bytes > dataBytes - off) {
          throw bad(
              "tensor \""
                  + name
                  + "\" ("
                  + type
                  + " "
                  + Arrays.toString(ne)
                  + ", "
                  + bytes
                  + " bytes at data offset "
                  + Long.toUnsignedString(off)
                  + ") lies past the end of the file or is not aligned to "
                  + alignment
                  + " (the data section holds "
                  + dataBytes
                  + " bytes)");
        }
        infos.put(name, new Tensor(name, ne, type, types.get(i), off, bytes));
      }
      MemorySegment data = all.asSlice(dataStart, dataBytes).asReadOnly();
      return new Gguf(file, arena, data, meta, infos);
    }

    /**
     * One metadata value; an array's length is checked against the bytes left before it is read.
     */
    private Object value(String key, int type, int depth) {
      return switch (type) {
        case 0, 1 -> {
          need(1, key);
          long v =
              type == 0
                  ? all.get(ValueLayout.JAVA_BYTE, at) & 0xFF
                  : all.get(ValueLayout.JAVA_BYTE, at);
          at += 1;
          yield v;
        }
        case 2, 3 -> {
          need(2, key);
          short s = all.get(I16, at);
          at += 2;
          yield type == 2 ? (long) (s & 0xFFFF) : (long) s;
        }
        case 4, 5 -> {
          int v = u32(key);
          yield type == 4 ? Integer.toUnsignedLong(v) : (long) v;
        }
        case 6 -> {
          need(4, key);
          float f = all.get(F32, at);
          at += 4;
          yield (double) f;
        }
        case 7 -> {
          need(1, key);
          byte b = all.get(ValueLayout.JAVA_BYTE, at);
          at += 1;
          yield b != 0;
        }
        case 8 -> string(key);
        case 9 -> {
          if (depth > 0) {
            throw bad("metadata \"" + key + "\" nests arrays in arrays");
          }
          int elem = u32("the element type of " + key);
          long min = elementBytes(key, elem);
          long n = count("the length of array " + key, min);
          if (elem == 9) {
            value(key, elem, depth + 1); // refused: nested
          }
          if (n > Integer.MAX_VALUE - 8) {
            throw bad(
                "metadata array \"" + key + "\" has " + n + " elements, more than an array holds");
          }
          int len = (int) n;
          if (elem == 8) {
            String[] a = new String[len];
            for (int i = 0; i < len; i++) {
              a[i] = string(key + "[" + i + "]");
            }
            yield a;
          }
          if (elem == 6 || elem == 12) {
            double[] a = new double[len];
            for (int i = 0; i < len; i++) {
              a[i] = ((Double) value(key, elem, depth + 1));
            }
            yield a;
          }
          long[] a = new long[len];
          for (int i = 0; i < len; i++) {
            Object v = value(key, elem, depth + 1);
            a[i] = v instanceof Boolean b ? (b ? 1 : 0) : (Long) v;
          }
          yield a;
        }
        case 10, 11 -> u64(key);
        case 12 -> {
          long bits = u64(key);
          yield Double.longBitsToDouble(bits);
        }
        default ->
            throw bad(
                "metadata \""
                    + key
                    + "\" has value type "
                    + Integer.toUnsignedString(type)
                    + ", which GGUF does not define");
      };
    }

    /** Bytes of one array element (the least, for strings and arrays). */
    private long elementBytes(String key, int type) {
      return switch (type) {
        case 0, 1, 7 -> 1;
        case 2, 3 -> 2;
        case 4, 5, 6 -> 4;
        case 10, 11, 12, 8 -> 8;
        case 9 -> 12;
        default ->
            throw bad(
                "metadata array \""
                    + key
                    + "\" has element type "
                    + Integer.toUnsignedString(type)
                    + ", which GGUF does not define");
      };
    }
  }
}
