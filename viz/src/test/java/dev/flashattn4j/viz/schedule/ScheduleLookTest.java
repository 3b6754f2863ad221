package dev.flashattn4j.viz.schedule;

import dev.flashattn4j.viz.gif.FramesOnDisk;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Draws frames to target/frames/ for people to look at (checks nothing by itself). */
class ScheduleLookTest {
  @Test
  void drawSome() {
    for (ScheduleTrace t :
        List.of(
            PaperSchedule.run(ScheduleSetup.SEED),
            FastSchedule.run(ScheduleSetup.SEED),
            PaperSchedule.run(new ScheduleSetup(64, 8, 256, 1, 1f)))) {
      List<BufferedImage> frames = new ArrayList<>();
      new ScheduleFrames(t).draw(frames::add);
      dev.flashattn4j.viz.page.ExplainPage.write(
          t, java.nio.file.Path.of("target", t.kernel() + t.n() + ".html"));
      FramesOnDisk.save(
          t.kernel() + t.n(),
          List.of(frames.get(0), frames.get(1), frames.get(2), frames.getLast()));
    }
  }
}
