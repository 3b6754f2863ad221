package dev.flashattn4j.kernel;

/** Manual probe: GFLOP/s of the panel kernel alone on L1-resident data (not a test). */
public final class PanelProbe {
  public static void main(String[] args) {
    int br = Integer.parseInt(args[0]);
    int bc = Integer.parseInt(args[1]);
    int d = Integer.parseInt(args[2]);
    float[] a = new float[d * br];
    float[] b = new float[bc * d];
    float[] out = new float[bc * br];
    float[] p = new float[bc * br];
    float[] o = new float[d * br];
    float[] alpha = new float[br];
    java.util.Arrays.fill(a, 0.01f);
    java.util.Arrays.fill(b, 0.01f);
    java.util.Arrays.fill(alpha, 1f);
    OnlineSoftmax sm = new OnlineSoftmax(br);
    double bq = 0, bp = 0, bs = 1e9;
    for (int rep = 0; rep < 100; rep++) {
      long iters = 1000;
      long t0 = System.nanoTime();
      for (long i = 0; i < iters; i++) {
        PanelKernel.run(a, br, br, b, 0, d, 1, bc, d, out, null);
      }
      long t1 = System.nanoTime();
      for (long i = 0; i < iters; i++) {
        PanelKernel.run(p, br, br, b, 0, 1, d, d, bc, o, alpha);
      }
      long t2 = System.nanoTime();
      sm.reset(br);
      for (long i = 0; i < iters; i++) {
        sm.update(out, br, br, bc);
      }
      long t3 = System.nanoTime();
      double f = 2.0 * br * bc * d * iters;
      bq = Math.max(bq, f / (t1 - t0));
      bp = Math.max(bp, f / (t2 - t1));
      bs = Math.min(bs, (t3 - t2) / (double) (iters * br * bc));
    }
    System.out.printf(
        "best: QK %.1f GFLOP/s  PV %.1f GFLOP/s  softmax %.3f ns/score (matmul per score %.3f ns)%n",
        bq, bp, bs, 4.0 * d / (2 / (1 / bq + 1 / bp)));
  }
}
