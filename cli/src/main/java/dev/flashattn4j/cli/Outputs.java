package dev.flashattn4j.cli;

import static java.nio.file.StandardCopyOption.ATOMIC_MOVE;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
   * <p>Together or not at all, on every exit the JVM still runs (SIGTERM, Ctrl-C, {@code
   * System.exit}): a shutdown hook that comes while the outputs are being written deletes the
   * temporaries and no target changes; one that comes while they are being renamed waits for the
   * renames to end (they take microseconds), so every target changes. Only a kill the JVM cannot
   * see (SIGKILL, a power cut) in that window can leave some renamed and not others; {@code grad
   * --out-dir} is one rename of a folder, whole even then.
   *
   * @param writers by flag, the same flags as added (an output not added is skipped)
   */
  void writeAll(Map<String, Writer> writers) {
    writeAll(writers, Files::move, commit -> {});
  }

  /** How a temporary file becomes its target (a seam for the tests). */
  interface Mover {
    void move(Path from, Path to, StandardCopyOption option) throws IOException;
  }

  /**
   * As {@link #writeAll(Map)}, with the renames done by {@code mover} and {@code afterEach} called
   * after each file is written (seams for the tests, which play the shutdown hook).
   */
  void writeAll(
      Map<String, Writer> writers, Mover mover, java.util.function.Consumer<Commit> afterEach) {
    Commit commit = new Commit();
    // issue 19 found 4 MB .tmp files left by a killed grad, and outputs renamed one by one
    Thread hook = new Thread(commit::abort, "flashattn-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      write(writers, mover, commit, afterEach);
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // the JVM is shutting down: the hook runs
      }
    }
  }

  /**
   * The state one {@link #writeAll} shares with its shutdown hook: writing (the hook may abort and
   * delete the temporaries), committing (the hook waits), done or aborted. The renames run while
   * holding the monitor, so the hook's {@link #abort} cannot interleave with them.
   */
  static final class Commit {
    private final List<Path> temps = new ArrayList<>();
    private boolean aborted;
    private boolean done;

    synchronized void temporary(Path tmp) {
      checkNotAborted();
      temps.add(tmp);
    }

    synchronized void abort() {
      if (!done && !aborted) {
        aborted = true;
        temps.forEach(Outputs::deleteQuietly);
      }
    }

    synchronized boolean aborted() {
      return aborted;
    }

    private void checkNotAborted() {
      if (aborted) {
        throw new BadInputException("the JVM is shutting down: nothing was written");
      }
    }

    synchronized void rename(List<Path> targets, Mover mover) throws IOException {
      checkNotAborted();
      // the first output (the command's main one) is renamed last
      for (int i = targets.size() - 1; i >= 0; i--) {
        mover.move(temps.get(i), targets.get(i), StandardCopyOption.REPLACE_EXISTING);
      }
      done = true;
    }

    synchronized void deleteTemporaries() {
      temps.forEach(Outputs::deleteQuietly);
    }
  }

  private void write(
      Map<String, Writer> writers,
      Mover mover,
      Commit commit,
      java.util.function.Consumer<Commit> afterEach) {
    try {
      for (Map.Entry<String, Path> e : targets.entrySet()) {
        Path tmp = temporary(e.getValue());
        commit.temporary(tmp);
        writers.get(e.getKey()).write(tmp);
        keepMode(tmp, e.getValue());
        afterEach.accept(commit);
      }
      commit.rename(new ArrayList<>(targets.values()), mover);
    } catch (IOException | UncheckedIOException e) {
      commit.deleteTemporaries();
      String why = e.getMessage() == null ? e.toString() : e.getMessage();
      throw new BadInputException("cannot write " + String.join(" and ", names()) + ": " + why, e);
    }
  }

  /**
   * Writes several files into a folder that appears whole or not at all, whatever kills the JVM:
   * they are written into a hidden folder beside it, which one {@code rename(2)} then puts in its
   * place. The folder must not exist yet, or be empty (rename replaces an empty folder).
   *
   * @param flag the flag that named the folder, for messages
   * @param files by file name, in the order to write them
   */
  static void writeDirectory(String flag, Path dir, Map<String, Writer> files) {
    Path abs = dir.toAbsolutePath();
    Path tmp = temporary(abs);
    Commit commit = new Commit();
    Thread hook =
        new Thread(
            () -> {
              commit.abort();
              deleteTree(tmp);
            },
            "flashattn-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      Files.createDirectory(tmp);
      for (Map.Entry<String, Writer> e : files.entrySet()) {
        Path f = tmp.resolve(e.getKey());
        commit.temporary(f);
        e.getValue().write(f);
      }
      commit.rename(List.of(abs), (from, to, option) -> Files.move(tmp, abs, ATOMIC_MOVE));
    } catch (IOException | UncheckedIOException e) {
      deleteTree(tmp);
      String why = e.getMessage() == null ? e.toString() : e.getMessage();
      if (e instanceof java.nio.file.DirectoryNotEmptyException
          || e instanceof java.nio.file.FileAlreadyExistsException) {
        why = "it is not empty";
      }
      throw new BadInputException("cannot write " + flag + " " + dir + ": " + why, e);
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // the JVM is shutting down: the hook runs
      }
    }
  }

  /**
   * An output folder: nothing yet, or an empty folder in a writable parent (a folder with files is
   * refused: they would be lost, or mixed with the new ones).
   */
  static void checkDirectory(String flag, Path dir) {
    Path parent = dir.toAbsolutePath().getParent();
    if (Files.isSymbolicLink(dir)) {
      throw new BadInputException(flag + " " + dir + " is a symbolic link: name the folder itself");
    }
    if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        throw new BadInputException(flag + " " + dir + " exists and is not a folder");
      }
      try (var entries = Files.list(dir)) {
        if (entries.findAny().isPresent()) {
          throw new BadInputException(
              flag + " " + dir + " is not empty: name a new folder (its files would be replaced)");
        }
      } catch (IOException e) {
        throw new BadInputException(flag + " " + dir + ": " + e.getMessage(), e);
      }
    }
    if (parent == null || !Files.isDirectory(parent) || !Files.isWritable(parent)) {
      throw new BadInputException(
          flag + " " + dir + ": the folder it goes in does not exist or is not writable");
    }
  }

  private static void deleteTree(Path dir) {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (var entries = Files.list(dir)) {
      entries.forEach(Outputs::deleteQuietly);
    } catch (IOException e) {
      // best effort, as below
    }
    deleteQuietly(dir);
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

  /**
   * Checks one output file whose format is fixed ({@code png}, {@code gif}, {@code html}): its name
   * must end with that extension, so that a file named {@code io.txt} never silently holds a PNG.
   *
   * @param flag the flag that named it, for the message
   * @param extension the format's extension, without the dot
   */
  static Path check(Path file, String flag, String extension) {
    Path name = file.getFileName();
    String n = name == null ? "" : name.toString().toLowerCase(java.util.Locale.ROOT);
    if (!n.endsWith("." + extension)) {
      throw new BadInputException(
          flag
              + " "
              + file
              + ": this writes "
              + extension.toUpperCase(java.util.Locale.ROOT)
              + "; name the file ."
              + extension);
    }
    return check(file, flag);
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
