package dev.flashattn4j.tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The header of a .npy file: the magic string, the format version, the header's length, and the
 * Python dict literal {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}.
 *
 * @param dtype the element type
 * @param shape the dimensions, outermost first (empty for a 0-d array)
 * @param dataOffset the byte offset of the first element
 */
record NpyHeader(NpyDtype dtype, int[] shape, long dataOffset) {

  private static final int MAX_HEADER = 1 << 20;

  /** Reads and checks the header at the start of {@code ch}. */
  static NpyHeader read(Path file, FileChannel ch) throws IOException {
    ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, pre);
    if (pre.position() < 10 || !magicOk(pre)) {
      throw new NpyFormatException(file, "not a .npy file (no \\x93NUMPY magic string)");
    }
    int major = pre.get(6) & 0xFF;
    int minor = pre.get(7) & 0xFF;
    long headerLen;
    int prefix;
    if (major == 1 && minor == 0) {
      headerLen = pre.getShort(8) & 0xFFFF;
      prefix = 10;
    } else if ((major == 2 || major == 3) && minor == 0) {
      if (pre.position() < 12) {
        throw new NpyFormatException(file, "truncated in the header");
      }
      headerLen = pre.getInt(8) & 0xFFFFFFFFL;
      prefix = 12;
    } else {
      throw new NpyFormatException(
          file, "unsupported .npy format version " + major + "." + minor + " (1.0, 2.0, 3.0 read)");
    }
    if (headerLen > MAX_HEADER || prefix + headerLen > ch.size()) {
      throw new NpyFormatException(
          file,
          "truncated in the header: it claims "
              + headerLen
              + " bytes, the file holds "
              + (ch.size() - prefix));
    }
    ByteBuffer text = ByteBuffer.allocate((int) headerLen);
    ch.position(prefix);
    readFully(ch, text);
    if (text.hasRemaining()) {
      throw new NpyFormatException(file, "truncated in the header");
    }
    String dict =
        new String(text.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    return parse(file, dict, prefix + headerLen);
  }

  private static boolean magicOk(ByteBuffer pre) {
    byte[] magic = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    for (int i = 0; i < magic.length; i++) {
      if (pre.get(i) != magic[i]) {
        return false;
      }
    }
    return true;
  }

  private static void readFully(FileChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining() && ch.read(buf) >= 0) {
      // keep reading until full or end of file
    }
  }

  /** Parses the header dict (a Python literal) of a file whose data starts at {@code offset}. */
  static NpyHeader parse(Path file, String dict, long offset) throws NpyFormatException {
    DictParser p = new DictParser(file, dict);
    String descr = null;
    Boolean fortran = null;
    int[] shape = null;
    p.skipSpace();
    p.expect('{');
    while (true) {
      p.skipSpace();
      if (p.peek() == '}') {
        p.next();
        break;
      }
      String key = p.string();
      p.skipSpace();
      p.expect(':');
      p.skipSpace();
      switch (key) {
        case "descr" -> descr = p.string();
        case "fortran_order" -> fortran = p.bool();
        case "shape" -> shape = p.tuple();
        default -> throw p.error("unexpected key '" + key + "' in the header");
      }
      p.skipSpace();
      if (p.peek() == ',') {
        p.next();
      } else if (p.peek() != '}') {
        throw p.error("expected ',' or '}'");
      }
    }
    p.skipSpace();
    if (!p.atEnd()) {
      throw p.error("text after the header dict");
    }
    if (descr == null || fortran == null || shape == null) {
      throw new NpyFormatException(
          file, "the header lacks 'descr', 'fortran_order' or 'shape': " + dict.strip());
    }
    NpyDtype dtype = NpyDtype.ofDescr(descr);
    if (dtype == null) {
      String why =
          descr.startsWith(">")
              ? "big-endian dtype '" + descr + "' is not read; save it little-endian"
              : "dtype '"
                  + descr
                  + "' is not read (float16 '<f2', float32 '<f4', float64 '<f8', bool '|b1'"
                  + " and the integers '|i1', '|u1', '<i2', '<i4', '<i8' are)";
      throw new NpyFormatException(file, why);
    }
    if (fortran) {
      throw new NpyFormatException(
          file, "Fortran-order arrays are not read; save it in C order (np.ascontiguousarray)");
    }
    return new NpyHeader(dtype, shape, offset);
  }

  /** The number of bytes of data the header claims, checked against overflow. */
  long dataBytes(Path file) throws NpyFormatException {
    long n = 1;
    for (int s : shape) {
      try {
        n = Math.multiplyExact(n, (long) s);
      } catch (ArithmeticException e) {
        throw new NpyFormatException(file, "the header's shape " + describe() + " overflows");
      }
    }
    if (n > Npy.MAX_ELEMENTS) {
      throw new NpyFormatException(
          file, "the header claims " + n + " elements, more than a Java array holds");
    }
    return n * dtype.itemSize();
  }

  /** The dtype and shape, e.g. {@code '<f4' (2, 3)}. */
  String describe() {
    return "'" + dtype.descr() + "' " + Npy.shapeString(shape);
  }

  /** A strict reader of the few Python literals a header holds. */
  private static final class DictParser {
    private final Path file;
    private final String s;
    private int pos;

    DictParser(Path file, String s) {
      this.file = file;
      this.s = s;
    }

    NpyFormatException error(String problem) {
      return new NpyFormatException(
          file, "malformed header (" + problem + " at character " + pos + "): " + s.strip());
    }

    boolean atEnd() {
      return pos >= s.length();
    }

    char peek() throws NpyFormatException {
      if (atEnd()) {
        throw error("unexpected end");
      }
      return s.charAt(pos);
    }

    char next() throws NpyFormatException {
      char c = peek();
      pos++;
      return c;
    }

    void skipSpace() {
      while (!atEnd() && Character.isWhitespace(s.charAt(pos))) {
        pos++;
      }
    }

    void expect(char c) throws NpyFormatException {
      if (peek() != c) {
        throw error("expected '" + c + "'");
      }
      pos++;
    }

    String string() throws NpyFormatException {
      char quote = peek();
      if (quote != '\'' && quote != '"') {
        throw error("expected a quoted string");
      }
      pos++;
      int end = s.indexOf(quote, pos);
      if (end < 0) {
        throw error("unterminated string");
      }
      String out = s.substring(pos, end);
      pos = end + 1;
      return out;
    }

    boolean bool() throws NpyFormatException {
      if (s.startsWith("True", pos)) {
        pos += 4;
        return true;
      }
      if (s.startsWith("False", pos)) {
        pos += 5;
        return false;
      }
      throw error("expected True or False");
    }

    int[] tuple() throws NpyFormatException {
      expect('(');
      List<Integer> dims = new ArrayList<>();
      while (true) {
        skipSpace();
        if (peek() == ')') {
          pos++;
          break;
        }
        int start = pos;
        while (!atEnd() && Character.isDigit(s.charAt(pos))) {
          pos++;
        }
        if (start == pos) {
          throw error("expected a non-negative integer in the shape");
        }
        try {
          dims.add(Integer.parseInt(s.substring(start, pos)));
        } catch (NumberFormatException e) {
          throw error("dimension " + s.substring(start, pos) + " is too large");
        }
        skipSpace();
        if (peek() == ',') {
          pos++;
        } else if (peek() != ')') {
          throw error("expected ',' or ')' in the shape");
        } else if (dims.size() == 1 && s.charAt(pos - 1) != ',') {
          throw error("a one-element tuple needs a trailing comma");
        }
      }
      return dims.stream().mapToInt(Integer::intValue).toArray();
    }
  }
}
