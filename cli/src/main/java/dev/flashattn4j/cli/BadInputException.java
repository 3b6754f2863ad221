package dev.flashattn4j.cli;

/** Bad input from the user (a file, a flag, shapes that don't fit): exit 2 with one line. */
public final class BadInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public BadInputException(String message) {
    super(message);
  }

  public BadInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
