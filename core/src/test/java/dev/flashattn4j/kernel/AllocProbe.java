package dev.flashattn4j.kernel;

import dev.flashattn4j.api.AttentionOptions;
import dev.flashattn4j.api.Causal;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import java.lang.management.ManagementFactory;

/** Manual probe (not a test). */
public final class AllocProbe {
  public static void main(String[] args) {
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    Tensor q = TestTensors.normal(4, 1, 8, Integer.parseInt(args[0]), 64);
    Tensor k = TestTensors.normal(5, 1, 2, 512, 64);
    Tensor v = TestTensors.normal(6, 1, 2, 512, 64);
    Tensor out = Tensor.zeros(1, 8, Integer.parseInt(args[0]), 64);
    float[] lse = new float[8 * Integer.parseInt(args[0])];
    AttentionOptions o =
        AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).window(256, 0).build();
    FlashForward f = new FlashForward(KernelConfig.defaults().withThreads(1));
    for (int round = 0; round < 10; round++) {
      long before = mx.getThreadAllocatedBytes(Thread.currentThread().threadId());
      for (int i = 0; i < 2000; i++) f.forward(q, k, v, o, out, lse);
      long after = mx.getThreadAllocatedBytes(Thread.currentThread().threadId());
      System.out.println("round " + round + ": " + (after - before) / 2000.0 + " bytes/call");
    }
    f.close();
  }
}
