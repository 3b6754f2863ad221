package dev.flashattn4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A program for {@link OutputsTest}: writes two outputs through {@link Outputs#writeAll}, the
 * second of which never finishes (it blocks after writing a byte), so that the test can kill the
 * JVM while the temporaries exist.
 */
final class OutputsKillProbe {

  private OutputsKillProbe() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    new Outputs()
        .add("--a", dir.resolve("a.npy"))
        .add("--b", dir.resolve("b.npy"))
        .writeAll(
            Map.of(
                "--a",
                file -> Files.write(file, new byte[1 << 20]),
                "--b",
                file -> {
                  Files.write(file, new byte[] {1});
                  System.out.println("writing");
                  System.out.flush();
                  try {
                    Thread.sleep(120_000);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                }));
  }
}
