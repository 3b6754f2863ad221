package dev.flashattn4j.viz;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writes a file whole or not at all: the bytes go to a temporary file next to the target, which is
 * renamed over the target only when everything was written. A failure leaves no partial file. A new
 * file is rw-r--r--; a file replaced keeps its mode.
 */
public final class AtomicFiles {

  /** Writes the content of a file to a stream. */
  @FunctionalInterface
  public interface Content {
    void writeTo(OutputStream out) throws IOException;
  }

  private AtomicFiles() {}

  /**
   * A temporary file is private (rw-------); the file it becomes is an ordinary rw-r--r-- one, or
   * keeps the mode of the file it replaces (as {@code Npy}'s writes do).
   */
  private static void setMode(Path tmp, Path target) throws IOException {
    if (Files.getFileStore(tmp).supportsFileAttributeView(PosixFileAttributeView.class)) {
      Files.setPosixFilePermissions(
          tmp,
          Files.isRegularFile(target)
              ? Files.getPosixFilePermissions(target)
              : PosixFilePermissions.fromString("rw-r--r--"));
    }
  }

  /**
   * Writes {@code content} to {@code target} atomically.
   *
   * @throws UncheckedIOException when the file cannot be written (the target is left untouched)
   */
  public static void write(Path target, Content content) {
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    Path tmp = null;
    try {
      if (dir != null && !Files.isDirectory(dir)) {
        throw new IOException("no such directory: " + dir);
      }
      tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
      try (OutputStream out = Files.newOutputStream(tmp)) {
        content.writeTo(out);
      }
      setMode(tmp, abs);
      try {
        Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
      }
      tmp = null;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // the original failure is the one to report
        }
      }
    }
  }
}
