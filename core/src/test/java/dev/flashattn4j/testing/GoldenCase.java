package dev.flashattn4j.testing;

import dev.flashattn4j.tensor.Npy;
import dev.flashattn4j.tensor.NpyArray;
import dev.flashattn4j.tensor.NpyDtype;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.Causal;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * One golden case made by {@code scripts/make_golden.py} with PyTorch's SDPA: a folder under core's
 * {@code src/test/resources/golden/} with q, k, v, an optional mask, the expected O and LSE and
 * {@code case.properties}.
 *
 * @param dir the case's folder
 * @param properties the options as the script wrote them (causal, scale, mask)
 */
public record GoldenCase(Path dir, Properties properties) {

  /** The golden folder of the source tree, from a module's directory (core, cli, ...). */
  public static Path root() {
    for (Path p :
        List.of(
            Path.of("src/test/resources/golden"), Path.of("../core/src/test/resources/golden"))) {
      if (Files.isDirectory(p)) {
        return p.toAbsolutePath().normalize();
      }
    }
    throw new IllegalStateException("golden cases not found from " + Path.of("").toAbsolutePath());
  }

  /** Every case, sorted by name. */
  public static List<GoldenCase> all() {
    try (Stream<Path> dirs = Files.list(root())) {
      List<GoldenCase> cases = new ArrayList<>();
      for (Path d : dirs.filter(Files::isDirectory).sorted().toList()) {
        cases.add(load(d));
      }
      return cases;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static GoldenCase load(Path dir) throws IOException {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(dir.resolve("case.properties"))) {
      p.load(r);
    }
    return new GoldenCase(dir, p);
  }

  public String name() {
    return dir.getFileName().toString();
  }

  public Path q() {
    return dir.resolve("q.npy");
  }

  public Path k() {
    return dir.resolve("k.npy");
  }

  public Path v() {
    return dir.resolve("v.npy");
  }

  /** The mask file, or null. */
  public Path mask() {
    String m = properties.getProperty("mask");
    return m == null ? null : dir.resolve(m);
  }

  /** SDPA's output, float32, Q's rank. */
  public Path expectedOutput() {
    return dir.resolve("o.npy");
  }

  /** The float64 log-sum-exp of each row, float32, Q's shape without d. */
  public Path expectedLse() {
    return dir.resolve("lse.npy");
  }

  /** "none", "top-left" or "bottom-right". */
  public String causal() {
    return properties.getProperty("causal", "none");
  }

  /** The explicit scale as written, or null for the default 1/√d. */
  public String scale() {
    return properties.getProperty("scale");
  }

  /** The options of this case. */
  public AttentionOptions options() throws IOException {
    AttentionOptions.Builder b = AttentionOptions.builder();
    if (scale() != null) {
      b.scale(Float.parseFloat(scale()));
    }
    b.causal(
        switch (causal()) {
          case "none" -> Causal.NONE;
          case "top-left" -> Causal.TOP_LEFT;
          case "bottom-right" -> Causal.BOTTOM_RIGHT;
          default -> throw new IllegalStateException(name() + ": causal " + causal());
        });
    if (mask() != null) {
      NpyArray m = Npy.read(mask());
      b.mask(
          m.dtype() == NpyDtype.BOOL
              ? AttentionMask.keep(m.toBooleanArray(), m.shape())
              : AttentionMask.additive(m.toFloatArray(), m.shape()));
    }
    return b.build();
  }

  /** The command-line flags of this case's options (for attend and verify). */
  public List<String> cliArgs() {
    List<String> args =
        new ArrayList<>(
            List.of("--q", q().toString(), "--k", k().toString(), "--v", v().toString()));
    if (scale() != null) {
      args.addAll(List.of("--scale", scale()));
    }
    if (!causal().equals("none")) {
      args.addAll(List.of("--causal", causal()));
    }
    if (mask() != null) {
      args.addAll(List.of("--mask", mask().toString()));
    }
    return args;
  }

  public Tensor readQ() throws IOException {
    return Npy.readTensor(q());
  }

  public Tensor readK() throws IOException {
    return Npy.readTensor(k());
  }

  public Tensor readV() throws IOException {
    return Npy.readTensor(v());
  }

  @Override
  public String toString() {
    return name();
  }
}
