package dev.flashattn4j.viz.matvec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.viz.gif.FramesOnDisk;
import dev.flashattn4j.viz.gif.GifInfo;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Collections;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MatVecAnimationTest {

  @TempDir Path dir;

  @Test
  void theSeedProductIsTheSumOfTheScaledColumns() {
    assertArrayEquals(new double[] {2, 1}, MatVec.SEED.scaledColumn(0));
    assertArrayEquals(new double[] {2, 6}, MatVec.SEED.scaledColumn(1));
    assertArrayEquals(new double[] {4, 7}, MatVec.SEED.product());
  }

  @Test
  void oneFramePerColumnPlusTheSumOneSecondEachLoopingForever() throws Exception {
    Path file = dir.resolve("mv.gif");
    new MatVecAnimation(MatVec.SEED).write(file);
    GifInfo info = GifInfo.read(file);
    FramesOnDisk.save("matvec", info.frames());
    assertEquals(3, info.frames().size());
    assertEquals(Collections.nCopies(3, 1000), info.delaysMs());
    assertEquals(0, info.loopCount());
  }

  @Test
  void eachArrowIsDrawnWhereTheProductSaysInItsColour() throws Exception {
    MatVecAnimation anim = new MatVecAnimation(MatVec.SEED);
    Path file = dir.resolve("mv.gif");
    anim.write(file);
    GifInfo info = GifInfo.read(file);
    Color c1 = MatVecAnimation.columnColour(0);
    Color c2 = MatVecAnimation.columnColour(1);
    Color sum = MatVecAnimation.sumColour();
    // frame 1: column 1 scaled by 1 = [2, 1]; a point 60% along it is column 1's colour
    assertTrue(near(info.frames().get(0), anim, 1.2, 0.6, c1));
    assertTrue(!near(info.frames().get(0), anim, 1.2, 3.6, c2), "column 2 not drawn yet");
    // frame 2: 2·[1, 3] = [2, 6] from the origin
    assertTrue(near(info.frames().get(1), anim, 1.2, 3.6, c2));
    // frame 3: column 2 starts at the tip of column 1: [2, 1] → [4, 7]; the sum goes to [4, 7]
    assertTrue(near(info.frames().get(2), anim, 3.0, 4.0, c2));
    assertTrue(near(info.frames().get(2), anim, 2.4, 4.2, sum));
  }

  /** The seed's last frame once had the x-axis through "1·a₁ = [2, 1]": no axis crosses a label. */
  @Test
  void noAxisRunsThroughALabel() {
    for (MatVec mv :
        new MatVec[] {
          MatVec.SEED,
          new MatVec(new double[] {3, 0, 0, 1}, new double[] {1, 1}),
          new MatVec(new double[] {1, -2, 0.5, 3}, new double[] {-1, 2})
        }) {
      MatVecAnimation anim = new MatVecAnimation(mv);
      anim.frames();
      double[] origin = anim.pixel(0, 0);
      assertEquals(3, anim.sumFrameLabels().size(), "two column labels and the sum's");
      for (java.awt.geom.Rectangle2D box : anim.sumFrameLabels()) {
        assertTrue(
            origin[1] < box.getMinY() - 1 || origin[1] > box.getMaxY() + 1,
            "the x-axis runs through the label at " + box + " of " + mv);
        assertTrue(
            origin[0] < box.getMinX() - 1 || origin[0] > box.getMaxX() + 1,
            "the y-axis runs through the label at " + box + " of " + mv);
      }
    }
  }

  @Test
  void theAxesFitTheVectors() {
    PlotRange r =
        new MatVecAnimation(new MatVec(new double[] {40, -3, 1, 2}, new double[] {1, -5})).range();
    // columns: [40, 1]·1 = [40, 1]; [-3, 2]·-5 = [15, -10]; sum [55, -9]
    assertTrue(r.xmin() <= 0 && r.xmax() >= 55, r.toString());
    assertTrue(r.ymin() <= -10 && r.ymax() >= 1, r.toString());
    assertTrue(r.span() < 90, "no more than a margin around the vectors: " + r);
  }

  @Test
  void malformedNumbersAreAClearError() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> MatVec.parse("2,1,x,3", "--a"));
    assertTrue(e.getMessage().contains("--a"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> MatVec.parse("2,,1", "--a"));
    assertThrows(IllegalArgumentException.class, () -> MatVec.parse("NaN,1", "--v"));
    IllegalArgumentException shape =
        assertThrows(
            IllegalArgumentException.class,
            () -> new MatVec(new double[] {1, 2, 3}, new double[] {1, 2}));
    assertTrue(shape.getMessage().contains("2×2"), shape.getMessage());
  }

  /** Whether a pixel within 2 px of the plane point (x, y) has (nearly) colour c. */
  private static boolean near(
      BufferedImage img, MatVecAnimation anim, double x, double y, Color c) {
    double[] p = anim.pixel(x, y);
    for (int dy = -2; dy <= 2; dy++) {
      for (int dx = -2; dx <= 2; dx++) {
        int rgb = img.getRGB((int) Math.round(p[0]) + dx, (int) Math.round(p[1]) + dy);
        Color got = new Color(rgb);
        if (Math.abs(got.getRed() - c.getRed())
                + Math.abs(got.getGreen() - c.getGreen())
                + Math.abs(got.getBlue() - c.getBlue())
            < 30) {
          return true;
        }
      }
    }
    return false;
  }
}
