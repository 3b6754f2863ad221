package dev.flashattn4j.tensor;

import java.nio.file.Path;

/**
 * A file that is not a safetensors file this project can read, or one whose header does not
 * describe it; the message names the file. It is an {@link IllegalArgumentException}: the file is a
 * bad argument, found before any tensor is read.
 */
public final class SafetensorsFormatException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public SafetensorsFormatException(Path file, String problem) {
    super(file + ": " + problem);
  }

  SafetensorsFormatException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
  }
}
