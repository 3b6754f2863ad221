package dev.flashattn4j.internal;

/** The library's argument checks: misuse is an IllegalArgumentException naming the argument. */
public final class Checks {

  private Checks() {}

  /**
   * Returns {@code value} when it is not null.
   *
   * @throws IllegalArgumentException "NAME must not be null"
   */
  public static <T> T notNull(T value, String name) {
    if (value == null) {
      throw new IllegalArgumentException(name + " must not be null");
    }
    return value;
  }
}
