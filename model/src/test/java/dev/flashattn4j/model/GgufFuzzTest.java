package dev.flashattn4j.model;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A seeded fuzzer over GGUF model directories, as {@link ModelDirectoryFuzzTest} is over
 * safetensors ones: a fixture (F32 or Q8_0; the Q8_0 one every other time alone, its config and
 * tokenizer built from the metadata) with one random mutation (cut short, header bytes changed, an
 * extreme u64 written into the header, data bytes changed) either loads or fails with a one-line
 * {@link ModelFormatException} (or {@link NoSuchFileException}) within seconds: never another
 * exception, an OutOfMemoryError or a hang.
 */
class GgufFuzzTest {

  @TempDir Path tmp;

  private static final long[] EXTREMES = {
    0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 32, 1L << 40, 1L << 62, 0xFFFF_FFFFL, 31, 33
  };

  static IntStream seeds() {
    return IntStream.rangeClosed(1, 400);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void aMutatedGgufLoadsOrFailsInOneLine(int seed) throws IOException {
    SplittableRandom r = new SplittableRandom(seed);
    String family = r.nextBoolean() ? "llama" : "qwen2";
    String file = family.equals("llama") ? "llama-f32.gguf" : "qwen2-q8_0.gguf";
    Path d = Files.createTempDirectory(tmp, "g");
    // every other qwen2 seed: the file alone, its config and tokenizer built from its metadata
    boolean alone = family.equals("qwen2") && seed % 4 < 2;
    for (String f : alone ? new String[0] : new String[] {"config.json", "tokenizer.json"}) {
      Files.copy(Fixtures.dir(family).resolve(f), d.resolve(f));
    }
    byte[] b = Files.readAllBytes(Path.of("src/test/resources/gguf", file));
    // the header (metadata and tensor infos) lies in the first few KiB of these files
    int header = Math.min(b.length, 6000);
    String what;
    switch (r.nextInt(4)) {
      case 0 -> {
        int keep = r.nextInt(b.length);
        b = Arrays.copyOf(b, keep);
        what = "cut to " + keep + " bytes";
      }
      case 1 -> {
        int n = 1 + r.nextInt(4);
        for (int i = 0; i < n; i++) {
          b[r.nextInt(header)] = (byte) r.nextInt(256);
        }
        what = n + " header bytes changed";
      }
      case 2 -> {
        int at = r.nextInt(header - 8);
        long v = EXTREMES[r.nextInt(EXTREMES.length)];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(at, v);
        what = "u64 " + v + " at " + at;
      }
      default -> {
        int n = 1 + r.nextInt(8);
        for (int i = 0; i < n; i++) {
          b[header + r.nextInt(b.length - header)] = (byte) r.nextInt(256);
        }
        what = n + " data bytes changed";
      }
    }
    Files.write(d.resolve(file), b);
    String label = file + (alone ? " alone" : "") + ": " + what;
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          try (Model m = Model.load(d, ModelOptions.defaults().withThreads(1))) {
            m.tokenizer().encode("Once upon a time", true);
          } catch (ModelFormatException | NoSuchFileException e) {
            if (e.getMessage() == null || e.getMessage().lines().count() != 1) {
              fail(label + ": not one line: " + e.getMessage());
            }
          } catch (Throwable t) {
            throw new AssertionError(label + ": " + t, t);
          }
        },
        label);
  }
}
