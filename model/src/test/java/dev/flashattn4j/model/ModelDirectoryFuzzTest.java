package dev.flashattn4j.model;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

import dev.flashattn4j.tensor.SafetensorsFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;

/**
 * A seeded fuzzer over model directories (issue 19): the llama fixture with one random mutation
 * (bytes of config.json or tokenizer.json changed, a number in config.json replaced by an extreme
 * one, the checkpoint's header or data cut or flipped) either loads or fails with the model
 * module's own exceptions — {@link ModelFormatException}, {@link SafetensorsFormatException},
 * {@link NoSuchFileException} — within seconds, never another exception, a hang or an error.
 */
class ModelDirectoryFuzzTest {

  @TempDir Path tmp;

  private static final String[] NUMBERS = {
    "0",
    "-1",
    "2147483647",
    "-2147483648",
    "1e9",
    "1e309",
    "NaN",
    "0.5",
    "\"x\"",
    "null",
    "[]",
    "{}"
  };

  static java.util.stream.IntStream seeds() {
    return java.util.stream.IntStream.rangeClosed(1, 300);
  }

  @ParameterizedTest(name = "seed {0}")
  @org.junit.jupiter.params.provider.MethodSource("seeds")
  void aMutatedDirectoryLoadsOrFailsWithItsOwnException(int seed) throws IOException {
    SplittableRandom r = new SplittableRandom(seed);
    Path d = Files.createTempDirectory(tmp, "m");
    for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) {
      Files.copy(Fixtures.dir("llama").resolve(f), d.resolve(f));
    }
    String what = mutate(r, d);
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          try (Model m = Model.load(d, ModelOptions.defaults().withThreads(1))) {
            m.tokenizer().encode("Once upon a time", true);
          } catch (ModelFormatException | SafetensorsFormatException | NoSuchFileException e) {
            if (e.getMessage() == null || e.getMessage().lines().count() != 1) {
              fail(what + ": not one line: " + e.getMessage());
            }
          } catch (Throwable t) {
            throw new AssertionError(what + ": " + t, t);
          }
        },
        what);
  }

  /** One mutation; returns what it did, for the failure message. */
  private static String mutate(SplittableRandom r, Path d) throws IOException {
    switch (r.nextInt(5)) {
      case 0 -> {
        // a number of config.json replaced by an extreme value or another type
        Path c = d.resolve("config.json");
        String s = Files.readString(c);
        java.util.regex.Matcher m =
            java.util.regex.Pattern.compile(": (-?[0-9][0-9.e+-]*)").matcher(s);
        java.util.List<int[]> at = new java.util.ArrayList<>();
        while (m.find()) {
          at.add(new int[] {m.start(1), m.end(1)});
        }
        int[] x = at.get(r.nextInt(at.size()));
        String v = NUMBERS[r.nextInt(NUMBERS.length)];
        Files.writeString(c, s.substring(0, x[0]) + v + s.substring(x[1]));
        return "config.json: " + s.substring(Math.max(0, x[0] - 30), x[0]).strip() + " → " + v;
      }
      case 1 -> {
        // bytes of a JSON file flipped
        Path f = d.resolve(r.nextBoolean() ? "config.json" : "tokenizer.json");
        byte[] b = Files.readAllBytes(f);
        int n = 1 + r.nextInt(4);
        for (int i = 0; i < n; i++) {
          b[r.nextInt(b.length)] = (byte) r.nextInt(256);
        }
        Files.write(f, b);
        return f.getFileName() + ": " + n + " bytes changed";
      }
      case 2 -> {
        // the checkpoint cut short
        Path f = d.resolve("model.safetensors");
        byte[] b = Files.readAllBytes(f);
        int keep = r.nextInt(b.length);
        Files.write(f, java.util.Arrays.copyOf(b, keep));
        return "model.safetensors cut to " + keep + " bytes";
      }
      case 3 -> {
        // bytes of the checkpoint's header flipped
        Path f = d.resolve("model.safetensors");
        byte[] b = Files.readAllBytes(f);
        long header =
            java.nio.ByteBuffer.wrap(b, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        int span = (int) Math.min(b.length, 8 + Math.max(1, header));
        int i = r.nextInt(span);
        b[i] = (byte) r.nextInt(256);
        Files.write(f, b);
        return "model.safetensors byte " + i + " of the header changed";
      }
      default -> {
        // a key of config.json removed
        Path c = d.resolve("config.json");
        String[] lines = Files.readString(c, StandardCharsets.UTF_8).split("\n");
        int i = 1 + r.nextInt(lines.length - 2);
        String removed = lines[i];
        StringBuilder out = new StringBuilder();
        for (int j = 0; j < lines.length; j++) {
          if (j != i) {
            out.append(lines[j]).append('\n');
          }
        }
        Files.writeString(c, out.toString().replace(",\n}", "\n}"));
        return "config.json without " + removed.strip();
      }
    }
  }
}
