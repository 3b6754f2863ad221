package dev.flashattn4j.tensor;

import dev.flashattn4j.internal.Checks;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Set;

/**
 * Reads and writes NumPy's .npy format (format versions 1.0, 2.0 and 3.0, C order): float16,
 * float32, float64, bool and integer (int8, uint8, int16, int32, int64) arrays are read; float32
 * and float64 arrays are written, atomically.
 *
 * <p>Every file is checked before its data is read: the magic string, the version, a header dict
 * with exactly {@code descr}, {@code fortran_order} and {@code shape}, and a data size that matches
 * the file's size to the byte, so a header that claims more data than the file holds fails before
 * anything of that size is allocated. Errors are {@link NpyFormatException}s naming the file.
 */
public final class Npy {

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final int CHUNK = 1 << 20;
  private static final int ALIGN = 64;

  /** The largest array Java can hold. */
  static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

  private Npy() {}

  /**
   * Reads a .npy file.
   *
   * @throws NpyFormatException when the file is not a .npy array this class reads
   * @throws IOException when the file cannot be read
   */
  public static NpyArray read(Path file) throws IOException {
    Checks.notNull(file, "file");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      NpyHeader header = NpyHeader.read(file, ch);
      long dataBytes = header.dataBytes(file);
      long available = ch.size() - header.dataOffset();
      if (dataBytes > available) {
        throw new NpyFormatException(
            file,
            "truncated: the header says "
                + header.describe()
                + ", "
                + dataBytes
                + " bytes of data, but the file holds "
                + available);
      }
      if (dataBytes < available) {
        throw new NpyFormatException(
            file,
            (available - dataBytes)
                + " bytes after the data of "
                + header.describe()
                + ": the header does not describe the file");
      }
      int n = (int) (dataBytes / header.dtype().itemSize());
      checkMemory(file, header, (long) n * arrayBytes(header.dtype()));
      ch.position(header.dataOffset());
      int[] shape = header.shape();
      return switch (header.dtype()) {
        case FLOAT32 -> NpyArray.ofFloats(NpyDtype.FLOAT32, readFloats(file, ch, n), shape);
        case FLOAT16 -> NpyArray.ofFloats(NpyDtype.FLOAT16, readHalves(file, ch, n), shape);
        case FLOAT64 -> NpyArray.ofDoubles(readDoubles(file, ch, n), shape);
        case BOOL -> NpyArray.ofBooleans(readBools(file, ch, n), shape);
        case INT8, UINT8, INT16, INT32, INT64 ->
            NpyArray.ofIntegers(header.dtype(), readIntegers(file, ch, n, header.dtype()), shape);
      };
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(file.toString(), null, "no such file");
    }
  }

  /** Bytes an element takes in the array {@link #read} returns (float16 is widened to float32). */
  private static int arrayBytes(NpyDtype dtype) {
    return switch (dtype) {
      case FLOAT16, FLOAT32 -> Float.BYTES;
      case FLOAT64 -> Double.BYTES;
      case BOOL -> 1;
      case INT8, UINT8, INT16, INT32, INT64 -> Long.BYTES;
    };
  }

  /**
   * Refuses, before anything is allocated, an array larger than the heap can still give: an {@link
   * OutOfMemoryError} halfway through a read would say nothing about the file.
   */
  private static void checkMemory(Path file, NpyHeader header, long bytes) throws IOException {
    Runtime rt = Runtime.getRuntime();
    long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    if (bytes > free) {
      throw new NpyTooLargeException(file, header.describe(), bytes, rt.maxMemory());
    }
  }

  /** An array too large for this JVM's heap, found from its header. */
  public static final class NpyTooLargeException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The bytes the array needs. */
    private final long neededBytes;

    /** The JVM's largest heap. */
    private final long maxHeapBytes;

    NpyTooLargeException(Path file, String what, long neededBytes, long maxHeapBytes) {
      super(
          file
              + ": "
              + what
              + " needs "
              + size(neededBytes)
              + ", more than this JVM's heap (at most "
              + size(maxHeapBytes)
              + ") has free");
      this.neededBytes = neededBytes;
      this.maxHeapBytes = maxHeapBytes;
    }

    private static String size(long bytes) {
      return bytes >= 1L << 30
          ? String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
          : String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }

    /** The bytes the array needs. */
    public long neededBytes() {
      return neededBytes;
    }

    /** The most the heap may grow to (-Xmx). */
    public long maxHeapBytes() {
      return maxHeapBytes;
    }
  }

  /**
   * Reads a float16, float32 or float64 array of rank 2, 3 or 4 as a float32 tensor.
   *
   * @throws NpyFormatException when the file is not such an array
   */
  public static Tensor readTensor(Path file) throws IOException {
    NpyArray a = read(file);
    if (!a.dtype().isFloat() || a.rank() < 2 || a.rank() > 4) {
      throw new NpyFormatException(
          file,
          "expected a float array of rank 2, 3 or 4 ((N, D), (H, N, D) or (B, H, N, D)), found "
              + a.dtype().descr()
              + " "
              + shapeString(a.shape()));
    }
    return a.toTensor();
  }

  /**
   * Writes a float32 array, atomically: the file is complete or absent (and an existing file is
   * replaced whole or not at all).
   *
   * @param data row-major, as many as the product of {@code shape}
   * @param shape any rank; empty for a 0-d array
   * @throws IOException when the file cannot be written (nothing is left behind)
   */
  public static void write(Path file, float[] data, int... shape) throws IOException {
    Checks.notNull(file, "file");
    Checks.notNull(data, "data");
    checkLength(data.length, shape);
    writeAtomically(
        file,
        NpyDtype.FLOAT32,
        shape,
        (buf, from, count) -> buf.asFloatBuffer().put(data, from, count));
  }

  /**
   * Writes a float64 array, atomically.
   *
   * @param data row-major, as many as the product of {@code shape}
   * @param shape any rank; empty for a 0-d array
   * @throws IOException when the file cannot be written (nothing is left behind)
   */
  public static void write(Path file, double[] data, int... shape) throws IOException {
    Checks.notNull(file, "file");
    Checks.notNull(data, "data");
    checkLength(data.length, shape);
    writeAtomically(
        file,
        NpyDtype.FLOAT64,
        shape,
        (buf, from, count) -> buf.asDoubleBuffer().put(data, from, count));
  }

  /**
   * Writes a tensor as float32 with the tensor's rank and shape, atomically (no copy of views).
   *
   * @throws IOException when the file cannot be written (nothing is left behind)
   */
  public static void write(Path file, Tensor tensor) throws IOException {
    Checks.notNull(file, "file");
    Checks.notNull(tensor, "tensor");
    if (tensor.isContiguous()) {
      float[] data = tensor.data();
      int offset = tensor.offset();
      writeAtomically(
          file,
          NpyDtype.FLOAT32,
          tensor.shape(),
          (buf, from, count) -> buf.asFloatBuffer().put(data, offset + from, count));
      return;
    }
    write(file, tensor.toArray(), tensor.shape());
  }

  /** Puts elements [from, from + count) into a little-endian buffer with room for them. */
  @FunctionalInterface
  private interface Source {
    void put(ByteBuffer buf, int from, int count);
  }

  private static void checkLength(int length, int[] shape) {
    Checks.notNull(shape, "shape");
    long size = 1;
    for (int s : shape) {
      if (s < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      size *= s;
    }
    if (size != length) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(shape) + " needs " + size + " elements, not " + length);
    }
  }

  private static void writeAtomically(Path file, NpyDtype dtype, int[] shape, Source source)
      throws IOException {
    Path target = file.toAbsolutePath();
    Path dir = target.getParent();
    Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
    boolean done = false;
    try {
      keepPermissions(tmp, target);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        writeAll(ch, ByteBuffer.wrap(header(dtype, shape)));
        long total = 1;
        for (int s : shape) {
          total *= s;
        }
        int per = CHUNK / dtype.itemSize();
        ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        for (int from = 0; from < total; from += per) {
          int count = (int) Math.min(per, total - from);
          buf.clear();
          source.put(buf, from, count);
          buf.limit(count * dtype.itemSize());
          writeAll(ch, buf);
        }
        ch.force(true);
      }
      try {
        Files.move(
            tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      done = true;
    } finally {
      if (!done) {
        Files.deleteIfExists(tmp);
      }
    }
  }

  /**
   * Gives the temp file the permissions of the file it replaces, or rw-r--r-- for a new file (a
   * temp file is created owner-only), where the file system has POSIX permissions.
   */
  private static void keepPermissions(Path tmp, Path target) throws IOException {
    if (!Files.getFileStore(tmp).supportsFileAttributeView(PosixFileAttributeView.class)) {
      return;
    }
    Set<PosixFilePermission> perms =
        Files.exists(target)
            ? Files.getPosixFilePermissions(target)
            : PosixFilePermissions.fromString("rw-r--r--");
    Files.setPosixFilePermissions(tmp, perms);
  }

  private static void writeAll(FileChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }

  /** The magic, version and header dict NumPy writes: version 1.0, padded to 64 bytes. */
  static byte[] header(NpyDtype dtype, int[] shape) {
    String dict =
        "{'descr': '"
            + dtype.descr()
            + "', 'fortran_order': False, 'shape': "
            + shapeString(shape)
            + ", }";
    int prefix = MAGIC.length + 4;
    int total = prefix + dict.length() + 1;
    int padded = (total + ALIGN - 1) / ALIGN * ALIGN;
    if (padded - prefix > 0xFFFF) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " is too long");
    }
    String text = dict + " ".repeat(padded - total) + "\n";
    byte[] out = new byte[padded];
    System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
    out[6] = 1;
    out[7] = 0;
    int len = text.length();
    out[8] = (byte) len;
    out[9] = (byte) (len >>> 8);
    byte[] t = text.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(t, 0, out, prefix, t.length);
    return out;
  }

  /** A shape as a Python tuple: {@code ()}, {@code (3,)}, {@code (2, 3)}. */
  static String shapeString(int[] shape) {
    if (shape.length == 1) {
      return "(" + shape[0] + ",)";
    }
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < shape.length; i++) {
      sb.append(i > 0 ? ", " : "").append(shape[i]);
    }
    return sb.append(')').toString();
  }

  private static ByteBuffer fill(Path file, FileChannel ch, ByteBuffer buf, int bytes)
      throws IOException {
    buf.clear().limit(bytes);
    while (buf.hasRemaining()) {
      if (ch.read(buf) < 0) {
        throw new NpyFormatException(file, "the file ended before its data (it changed?)");
      }
    }
    return buf.flip();
  }

  private static float[] readFloats(Path file, FileChannel ch, int n) throws IOException {
    float[] out = new float[n];
    ByteBuffer buf =
        ByteBuffer.allocate((int) Math.min(CHUNK, n * 4L)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; ) {
      int count = Math.min(buf.capacity() / 4, n - i);
      fill(file, ch, buf, count * 4).asFloatBuffer().get(out, i, count);
      i += count;
    }
    return out;
  }

  private static double[] readDoubles(Path file, FileChannel ch, int n) throws IOException {
    double[] out = new double[n];
    ByteBuffer buf =
        ByteBuffer.allocate((int) Math.min(CHUNK, n * 8L)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; ) {
      int count = Math.min(buf.capacity() / 8, n - i);
      fill(file, ch, buf, count * 8).asDoubleBuffer().get(out, i, count);
      i += count;
    }
    return out;
  }

  private static float[] readHalves(Path file, FileChannel ch, int n) throws IOException {
    float[] out = new float[n];
    int per = CHUNK / 2;
    short[] halves = new short[Math.min(per, n)];
    ByteBuffer buf =
        ByteBuffer.allocate((int) Math.min(CHUNK, n * 2L)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; ) {
      int count = Math.min(per, n - i);
      fill(file, ch, buf, count * 2).asShortBuffer().get(halves, 0, count);
      for (int j = 0; j < count; j++) {
        out[i + j] = Float.float16ToFloat(halves[j]);
      }
      i += count;
    }
    return out;
  }

  /** Integers of a little-endian or byte-sized type, widened to long (uint8 as 0..255). */
  private static long[] readIntegers(Path file, FileChannel ch, int n, NpyDtype dtype)
      throws IOException {
    long[] out = new long[n];
    int size = dtype.itemSize();
    ByteBuffer buf =
        ByteBuffer.allocate((int) Math.min(CHUNK, (long) n * size)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; ) {
      int count = Math.min(buf.capacity() / size, n - i);
      fill(file, ch, buf, count * size);
      for (int j = 0; j < count; j++) {
        out[i + j] =
            switch (dtype) {
              case INT8 -> buf.get(j);
              case UINT8 -> Byte.toUnsignedLong(buf.get(j));
              case INT16 -> buf.getShort(j * 2);
              case INT32 -> buf.getInt(j * 4);
              default -> buf.getLong(j * 8);
            };
      }
      i += count;
    }
    return out;
  }

  private static boolean[] readBools(Path file, FileChannel ch, int n) throws IOException {
    boolean[] out = new boolean[n];
    ByteBuffer buf = ByteBuffer.allocate(Math.min(CHUNK, n));
    for (int i = 0; i < n; ) {
      int count = Math.min(buf.capacity(), n - i);
      fill(file, ch, buf, count);
      for (int j = 0; j < count; j++) {
        byte b = buf.get(j);
        if (b != 0 && b != 1) {
          throw new NpyFormatException(
              file, "bool element " + (i + j) + " is " + (b & 0xFF) + ", not 0 or 1");
        }
        out[i + j] = b == 1;
      }
      i += count;
    }
    return out;
  }
}
