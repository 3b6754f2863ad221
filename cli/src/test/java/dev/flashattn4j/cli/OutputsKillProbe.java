package dev.flashattn4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A program for {@link OutputsTest}: writes two outputs through {@link Outputs#writeAll}, the
 * second of which never finishes (it blocks after writing a byte), as two files or ({@code dir})
 * into one folder,, so that the test can kill the JVM while the temporaries exist.
 */
final class OutputsKillProbe {

  private OutputsKillProbe() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    Outputs.Writer slow =
        file -> {
          Files.write(file, new byte[] {1});
          System.out.println("writing");
          System.out.flush();
          try {
            Thread.sleep(120_000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        };
    Outputs.Writer big = file -> Files.write(file, new byte[1 << 20]);
    if (args.length > 1 && args[1].equals("dir")) {
      Map<String, Outputs.Writer> files = new LinkedHashMap<>();
      files.put("a.npy", big);
      files.put("b.npy", slow);
      Outputs.writeDirectory("--out-dir", dir.resolve("grads"), files);
      return;
    }
    new Outputs()
        .add("--a", dir.resolve("a.npy"))
        .add("--b", dir.resolve("b.npy"))
        .writeAll(Map.of("--a", big, "--b", slow));
  }
}
