package dev.flashattn4j.cli;

import dev.flashattn4j.tensor.Npy;
import dev.flashattn4j.viz.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The files one command writes, checked together before any work: each must be a regular file or
 * nothing yet (never a folder, a device, a FIFO or a symbolic link, which writing would replace or
 * follow) in a writable folder, and no two outputs of the command may name the same file (the
 * second would silently replace the first). The .npy outputs of a command are then written all or
 * nothing ({@link #writeAll}): each goes to a hidden temporary file next to its target, and only
 * when every one is whole are they renamed over their targets. Pictures and CSV files are written
 * one at a time, each whole or not at all ({@link AtomicFiles}). Every file written is rw-r--r--
 * (one replaced keeps its mode).
 */
final class Outputs {

  /** What to write into one file. */
  interface Writer {
    void write(Path file) throws IOException;
  }

  private final Map<String, Path> targets = new LinkedHashMap<>();

  /** Checks and adds an output named by {@code flag}; null (not asked for) is skipped. */
  Outputs add(String flag, Path file) {
    if (file == null) {
      return this;
    }
    checkWritable(flag, file);
    Path norm = file.toAbsolutePath().normalize();
    for (Map.Entry<String, Path> e : targets.entrySet()) {
      if (e.getValue().toAbsolutePath().normalize().equals(norm)) {
        throw new BadInputException(e.getKey() + " and " + flag + " name the same file " + file);
      }
    }
    targets.put(flag, file);
    return this;
  }

  /**
   * Refuses an output that names one of the command's inputs (the same path, or the same file
   * through a link): writing it would replace the data it is computed from.
   *
   * @param flag the input's flag, for the message
   * @param input the input file, or null (not given)
   */
  Outputs notInput(String flag, Path input) {
    if (input == null) {
      return this;
    }
    for (Map.Entry<String, Path> e : targets.entrySet()) {
      if (sameFile(e.getValue(), input)) {
        throw new BadInputException(
            e.getKey()
                + " names the input "
                + flag
                + " ("
                + input
                + "): an output never replaces an input");
      }
    }
    return this;
  }

  private static boolean sameFile(Path a, Path b) {
    if (a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize())) {
      return true;
    }
    try {
      return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
    } catch (IOException | SecurityException e) {
      return false;
    }
  }

  /**
   * Writes every output through a temporary file, then renames them all; on a failure deletes the
   * temporaries and leaves every target as it was.
   *
   * @param writers by flag, the same flags as added (an output not added is skipped)
   */
  void writeAll(Map<String, Writer> writers) {
    // the temporaries go with the JVM on every exit it still runs (SIGTERM, Ctrl-C, System.exit):
    // issue 19 found 4 MB .tmp files left by a killed grad
    List<Path> temps = new java.util.concurrent.CopyOnWriteArrayList<>();
    Thread cleanup = new Thread(() -> temps.forEach(Outputs::deleteQuietly), "flashattn-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    try {
      writeAll(writers, temps);
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException e) {
        // the JVM is shutting down: the hook runs
      }
    }
  }

  private void writeAll(Map<String, Writer> writers, List<Path> temps) {
    Set<String> done = new HashSet<>();
    try {
      for (Map.Entry<String, Path> e : targets.entrySet()) {
        Path tmp = temporary(e.getValue());
        temps.add(tmp);
        writers.get(e.getKey()).write(tmp);
        keepMode(tmp, e.getValue());
        done.add(e.getKey());
      }
      // the first output (the command's main one) is renamed last
      List<Path> all = new ArrayList<>(targets.values());
      for (int i = all.size() - 1; i >= 0; i--) {
        Files.move(temps.get(i), all.get(i), StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException | UncheckedIOException e) {
      for (Path t : temps) {
        deleteQuietly(t);
      }
      String why = e.getMessage() == null ? e.toString() : e.getMessage();
      throw new BadInputException("cannot write " + String.join(" and ", names()) + ": " + why, e);
    }
  }

  /** A file replaced keeps its mode; a new one keeps the temporary's (rw-r--r--, from Npy). */
  private static void keepMode(Path tmp, Path target) throws IOException {
    if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)
        && Files.getFileStore(tmp).supportsFileAttributeView(PosixFileAttributeView.class)) {
      Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(target));
    }
  }

  private List<String> names() {
    List<String> n = new ArrayList<>();
    for (Path p : targets.values()) {
      n.add(p.toString());
    }
    return n;
  }

  /** A hidden file next to {@code file}, for writing it whole before the rename. */
  static Path temporary(Path file) {
    Path abs = file.toAbsolutePath();
    String name = abs.getFileName().toString();
    return abs.resolveSibling(
        "."
            + name.substring(0, Math.min(name.length(), 200))
            + ".tmp"
            + ProcessHandle.current().pid());
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      // best effort: the temporary file is hidden and named after the target
    }
  }

  /**
   * An output path whose folder exists and is writable, and that is a regular file or nothing yet:
   * never a folder, a device, a FIFO or a symbolic link (writing there would replace or follow it).
   */
  static void checkWritable(String flag, Path file) {
    Path dir = file.toAbsolutePath().getParent();
    Path name = file.getFileName();
    int bytes = name == null ? 0 : name.toString().getBytes(StandardCharsets.UTF_8).length;
    if (bytes > 255) {
      throw new BadInputException(
          flag + " " + file + ": cannot write a file name of " + bytes + " bytes (at most 255)");
    }
    if (Files.isDirectory(file)) {
      throw new BadInputException(flag + " " + file + " is a folder");
    }
    if (Files.isSymbolicLink(file)) {
      throw new BadInputException(flag + " " + file + " is a symbolic link: name the file itself");
    }
    if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)
        && !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new BadInputException(flag + " " + file + " exists and is not a regular file");
    }
    if (dir == null || !Files.isDirectory(dir) || !Files.isWritable(dir)) {
      throw new BadInputException(
          flag + " " + file + ": the folder does not exist or is not writable");
    }
  }

  /**
   * Checks one output file of a command that writes only one ({@link #add} for several).
   *
   * @param flag the flag that named it, for the message
   */
  static Path check(Path file, String flag) {
    checkWritable(flag, file);
    return file;
  }

  /** Runs {@code write}, turning an I/O failure into bad input that names the file. */
  static void write(Path file, Runnable write) {
    try {
      write.run();
    } catch (UncheckedIOException e) {
      String why = e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
      throw new BadInputException("cannot write " + file + ": " + why, e);
    }
  }

  /** A writer of a tensor. */
  static Writer tensor(dev.flashattn4j.tensor.Tensor t) {
    return file -> Npy.write(file, t);
  }
}
