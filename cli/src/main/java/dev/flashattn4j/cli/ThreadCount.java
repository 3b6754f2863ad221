package dev.flashattn4j.cli;

/** The one check of every {@code --threads} value: at least 1, at most the processors. */
final class ThreadCount {

  private ThreadCount() {}

  /**
   * Returns {@code threads} when it is in [1, processors].
   *
   * @throws BadInputException naming the flag, the value and the machine's processors
   */
  static int check(String flag, int threads) {
    int cores = Runtime.getRuntime().availableProcessors();
    if (threads < 1) {
      throw new BadInputException(flag + " must be at least 1, not " + threads);
    }
    if (threads > cores) {
      throw new BadInputException(
          flag
              + " "
              + threads
              + " is more than the "
              + cores
              + " processors of this machine: more threads than cores only take turns");
    }
    return threads;
  }
}
