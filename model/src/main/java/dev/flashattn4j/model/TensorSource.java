package dev.flashattn4j.model;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where a model's tensors come from, under transformers' names and shapes ([outputs, inputs] for a
 * matrix): {@code model.safetensors} (or its sharded index), or one GGUF file ({@link GgufSource}).
 * The loader ({@link ModelWeights}) checks every name, kind and shape before it reads any.
 */
interface TensorSource extends AutoCloseable {

  /** How a tensor is stored. Q8_0 stands for GGUF's Q8_0 and Q4_0 (read as Q8_0, losslessly). */
  enum Kind {
    F32,
    F16,
    BF16,
    Q8_0,
    OTHER
  }

  /** Every tensor's name and the file that holds it. */
  Map<String, Path> files();

  Kind kind(String name);

  /** transformers' shape: [O, K] for a matrix, [n] for a vector. */
  long[] shape(String name);

  /** The stored type and shape, as the file says them, for messages. */
  String describe(String name);

  /** The values as float32, row-major (Q8_0 dequantised: q·d, exact). */
  float[] floats(String name);

  /** A BF16 tensor's 16-bit patterns as stored. */
  short[] bits16(String name);

  /** A Q8_0 matrix as stored. */
  Q8Rows q8(String name);

  /** Whether two tensors hold the same stored bytes. */
  boolean sameData(String a, String b);

  /**
   * True when Gemma's norm weights are stored as 1 + w (llama.cpp's converter adds the 1), so the
   * loader must not add it again.
   */
  default boolean gemmaNormsIncludeOne() {
    return false;
  }

  /** Checks what the source says of the model (GGUF metadata) against config.json. */
  default void check(ModelConfig config) {}

  @Override
  void close();

  /** Whether {@code dir} holds a .gguf file (and no safetensors, which come first). */
  static boolean ggufOnly(Path dir) throws IOException {
    if (Files.isRegularFile(dir.resolve("model.safetensors"))
        || Files.isRegularFile(dir.resolve("model.safetensors.index.json"))) {
      return false;
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.gguf")) {
      return s.iterator().hasNext();
    }
  }

  /**
   * The tensors of a model: {@code file} when it is a {@code .gguf} file; else in directory {@code
   * dir}, {@code model.safetensors} or its index, or, when neither is there, its one {@code .gguf}
   * file.
   *
   * @throws NoSuchFileException when there is none of these
   * @throws ModelFormatException when a file is damaged or the directory holds several .gguf files
   */
  static TensorSource open(Path dir, Path ggufFile) throws IOException {
    if (ggufFile != null) {
      return GgufSource.open(ggufFile);
    }
    if (Files.isRegularFile(dir.resolve("model.safetensors"))
        || Files.isRegularFile(dir.resolve("model.safetensors.index.json"))) {
      return SafetensorsSource.open(dir);
    }
    List<Path> ggufs = new ArrayList<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.gguf")) {
      for (Path p : s) {
        if (Files.isRegularFile(p)) {
          ggufs.add(p);
        }
      }
    }
    if (ggufs.size() > 1) {
      ggufs.sort(null);
      throw new ModelFormatException(
          dir,
          "holds "
              + ggufs.size()
              + " .gguf files ("
              + ggufs.get(0).getFileName()
              + ", "
              + ggufs.get(1).getFileName()
              + (ggufs.size() > 2 ? ", …" : "")
              + ") and no model.safetensors: name the one to load (a .gguf path in place of the"
              + " directory)");
    }
    if (ggufs.size() == 1) {
      return GgufSource.open(ggufs.get(0));
    }
    Path single = dir.resolve("model.safetensors");
    throw new NoSuchFileException(
        single.toString(),
        null,
        "no model.safetensors (nor model.safetensors.index.json, nor a .gguf file)");
  }
}
