package dev.flashattn4j.cli;

import dev.flashattn4j.viz.AtomicFiles;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks and writes the picture files of {@code animate}, {@code explain} and {@code --plot}: a
 * missing directory is bad input, found before any drawing; the file itself is written whole or not
 * at all ({@link AtomicFiles}).
 */
final class OutputFile {

  private OutputFile() {}

  /**
   * Checks that {@code file} can be written (its directory exists, it is not a directory).
   *
   * @param flag the flag that named it, for the message
   */
  static Path check(Path file, String flag) {
    Path abs = file.toAbsolutePath();
    Path dir = abs.getParent();
    if (dir != null && !Files.isDirectory(dir)) {
      throw new BadInputException(flag + " " + file + ": no such directory " + dir);
    }
    if (Files.isDirectory(abs)) {
      throw new BadInputException(flag + " " + file + " is a directory");
    }
    if (dir != null && !Files.isWritable(dir)) {
      throw new BadInputException(flag + " " + file + ": cannot write in " + dir);
    }
    return file;
  }

  /** Runs {@code write}, turning an I/O failure into bad input that names the file. */
  static void write(Path file, Runnable write) {
    try {
      write.run();
    } catch (UncheckedIOException e) {
      throw new BadInputException("cannot write " + file + ": " + e.getCause().getMessage(), e);
    }
  }
}
