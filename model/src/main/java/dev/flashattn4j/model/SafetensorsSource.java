package dev.flashattn4j.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flashattn4j.tensor.Safetensors;
import dev.flashattn4j.tensor.SafetensorsEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tensors of {@code model.safetensors}, or of the shards a {@code model.safetensors.index.json}
 * lists, every file mapped once until {@link #close()}.
 */
final class SafetensorsSource implements TensorSource {

  private final Map<String, Path> files;
  private final Map<Path, Safetensors> open;

  private SafetensorsSource(Map<String, Path> files, Map<Path, Safetensors> open) {
    this.files = files;
    this.open = open;
  }

  static SafetensorsSource open(Path dir) throws IOException {
    Map<String, Path> files = tensorFiles(dir);
    Map<Path, Safetensors> open = new LinkedHashMap<>();
    try {
      for (Path f : new HashSet<>(files.values())) {
        open.put(f, Safetensors.open(f));
      }
    } catch (IOException | RuntimeException | Error e) {
      for (Safetensors s : open.values()) {
        s.close();
      }
      throw e;
    }
    return new SafetensorsSource(files, open);
  }

  @Override
  public Map<String, Path> files() {
    return files;
  }

  private Safetensors st(String name) {
    Safetensors st = open.get(files.get(name));
    if (!st.contains(name)) {
      throw new ModelFormatException(
          files.get(name), "has no tensor \"" + name + "\" (the index says it is there)");
    }
    return st;
  }

  private SafetensorsEntry entry(String name) {
    return st(name).entry(name);
  }

  @Override
  public Kind kind(String name) {
    return switch (entry(name).dtype()) {
      case F32 -> Kind.F32;
      case F16 -> Kind.F16;
      case BF16 -> Kind.BF16;
      default -> Kind.OTHER;
    };
  }

  @Override
  public long[] shape(String name) {
    return entry(name).shape();
  }

  @Override
  public String describe(String name) {
    return entry(name).describe();
  }

  @Override
  public float[] floats(String name) {
    return st(name).floats(name);
  }

  @Override
  public short[] bits16(String name) {
    return st(name).bits16(name);
  }

  @Override
  public Q8Rows q8(String name) {
    throw new IllegalStateException(name + " is not Q8_0");
  }

  @Override
  public boolean sameData(String a, String b) {
    Safetensors sa = st(a);
    Safetensors sb = st(b);
    SafetensorsEntry ea = sa.entry(a);
    SafetensorsEntry eb = sb.entry(b);
    return ea.dtype() == eb.dtype()
        && Arrays.equals(ea.shape(), eb.shape())
        && sa.segment(a).mismatch(sb.segment(b)) == -1;
  }

  @Override
  public void close() {
    for (Safetensors s : open.values()) {
      s.close();
    }
  }

  /** Which file holds each tensor: the one model.safetensors, or the index's weight_map. */
  static Map<String, Path> tensorFiles(Path dir) throws IOException {
    Path single = dir.resolve("model.safetensors");
    Path index = dir.resolve("model.safetensors.index.json");
    Map<String, Path> files = new LinkedHashMap<>();
    if (Files.isRegularFile(single)) {
      try (Safetensors st = Safetensors.open(single)) {
        for (String name : st.names()) {
          files.put(name, single);
        }
      }
      return files;
    }
    if (!Files.isRegularFile(index)) {
      throw new NoSuchFileException(
          single.toString(), null, "no model.safetensors (nor model.safetensors.index.json)");
    }
    JsonNode root;
    try {
      root =
          new ObjectMapper()
              .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
              .readTree(index.toFile());
    } catch (JsonProcessingException e) {
      throw new ModelFormatException(index, "not valid JSON", e);
    }
    JsonNode map = root == null ? null : root.get("weight_map");
    if (map == null || !map.isObject()) {
      throw new ModelFormatException(index, "has no weight_map object");
    }
    for (Map.Entry<String, JsonNode> e : map.properties()) {
      String file = e.getValue().asText();
      Path shard = dir.resolve(file).normalize();
      if (!e.getValue().isTextual() || !shard.getParent().equals(dir.normalize())) {
        throw new ModelFormatException(
            index, "weight_map maps " + e.getKey() + " to " + e.getValue() + ", not a file here");
      }
      files.put(e.getKey(), shard);
    }
    // every shard a regular file (a link to one is fine, as in Hugging Face's cache) before any is
    // opened: a directory threw "Is a directory", and a FIFO blocked the open until killed
    for (Path shard : new java.util.LinkedHashSet<>(files.values())) {
      if (!Files.exists(shard)) {
        throw new ModelFormatException(
            index, "weight_map names " + shard.getFileName() + ", which is not in " + dir);
      }
      if (!Files.isRegularFile(shard)) {
        throw new ModelFormatException(
            index,
            "weight_map names "
                + shard.getFileName()
                + ", which is not a regular file (a directory, a FIFO or a device)");
      }
    }
    return files;
  }
}
