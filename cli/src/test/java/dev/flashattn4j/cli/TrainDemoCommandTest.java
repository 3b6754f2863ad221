package dev.flashattn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.cli.train.TinyTransformer;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The training run through the library's backward matches PyTorch's loss curve and learns. */
class TrainDemoCommandTest {

  @Test
  void theFirstFiftyStepsMatchPyTorchWithinOneTenThousandth() {
    Cli r = Cli.run("train-demo", "--steps", "50", "--every", "10");
    assertEquals(0, r.exit(), r.toString());
    Matcher m = Pattern.compile("max relative difference ([0-9.e+-]+)").matcher(r.out());
    assertTrue(m.find(), r.out());
    assertTrue(Double.parseDouble(m.group(1)) <= 1e-4, r.out());
  }

  @Test
  void plotDrawsTheCurves(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    java.nio.file.Path png = dir.resolve("loss.png");
    Cli r = Cli.run("train-demo", "--steps", "20", "--every", "20", "--plot", png.toString());
    assertEquals(0, r.exit(), r.toString());
    java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(png.toFile());
    // the loss curves, and beside them |ours − PyTorch| per step (issue 23)
    assertEquals(2 * dev.flashattn4j.viz.chart.LossChart.WIDTH, img.getWidth());
  }

  @Test
  void theTaskIsLearnedAndTheCurveDoesNotDependOnTheThreads() {
    List<Double> torch = TrainDemoCommand.torchCurve();
    assertEquals(300, torch.size());
    float[] last = new float[2];
    float[] accuracy = new float[2];
    for (int t = 1; t <= 2; t++) {
      try (AttentionEngine e = AttentionEngine.create(t)) {
        TinyTransformer model = new TinyTransformer(e);
        float loss = 0;
        for (int s = 0; s < 300; s++) {
          loss = model.step();
        }
        last[t - 1] = loss;
        accuracy[t - 1] = model.accuracy();
      }
    }
    assertEquals(last[0], last[1], 0f, "the same bits on 1 and 2 threads");
    assertTrue(accuracy[0] > 0.99f, "accuracy " + accuracy[0]);
    assertTrue(last[0] < 0.01f, "final loss " + last[0]);
    assertTrue(torch.get(299) < 0.01, "PyTorch learns it too: " + torch.get(299));
  }
}
