package dev.flashattn4j.tensor;

import java.io.IOException;
import java.nio.file.Path;

/** A file that is not a .npy array this project can read; the message names the file. */
public final class NpyFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  /** The message is {@code file: problem}. */
  public NpyFormatException(Path file, String problem) {
    super(file + ": " + problem);
  }
}
