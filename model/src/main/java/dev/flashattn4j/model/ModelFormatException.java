package dev.flashattn4j.model;

import java.nio.file.Path;

/**
 * A model directory this module cannot run: a config.json it does not understand, a tensor that is
 * missing, of the wrong dtype or shape, or a checkpoint that does not match its config. The message
 * names the file and says what is wrong, on one line; nothing has been allocated for the model.
 */
public final class ModelFormatException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public ModelFormatException(Path file, String problem) {
    super(file + ": " + problem);
  }

  ModelFormatException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
  }
}
