package dev.flashattn4j.viz.schedule;

import dev.flashattn4j.viz.AtomicFiles;
import dev.flashattn4j.viz.gif.AnimatedGif;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * A schedule as an animated GIF: the opening frame, one frame per step, the closing frame, looping
 * forever.
 */
public final class ScheduleAnimation {

  /** How long the opening frame stays (block sizes to read). */
  public static final int OPENING_MS = 4000;

  /** How long the closing frame stays (the result to read). */
  public static final int CLOSING_MS = 5000;

  /** The most frames an animation may have; a schedule with more steps needs a larger M. */
  public static final int MAX_STEPS = 1024;

  private ScheduleAnimation() {}

  /**
   * The time per step frame: one second up to 30 steps, then shorter so that the loop lasts about
   * 30 seconds, but never under 200 ms.
   */
  public static int stepMs(int steps) {
    if (steps <= 30) {
      return 1000;
    }
    return Math.max(200, (int) Math.round(30_000.0 / steps / 10) * 10);
  }

  /** Writes the animation of {@code trace} to {@code out} (whole or not at all). */
  public static void write(ScheduleTrace trace, Path out) {
    int steps = trace.steps().size();
    if (steps > MAX_STEPS) {
      throw new IllegalArgumentException(
          "the schedule has "
              + steps
              + " steps, more than "
              + MAX_STEPS
              + " frames: use a larger SRAM size M (bigger blocks, fewer steps)");
    }
    int stepMs = stepMs(steps);
    AtomicFiles.write(
        out,
        stream -> {
          try (AnimatedGif gif = new AnimatedGif(stream)) {
            new ScheduleFrames(trace)
                .draw(
                    frame -> {
                      int k = gif.frames();
                      int delay = k == 0 ? OPENING_MS : k == steps + 1 ? CLOSING_MS : stepMs;
                      try {
                        gif.frame(frame, delay);
                      } catch (IOException e) {
                        throw new UncheckedIOException(e);
                      }
                    });
          }
        });
  }
}
