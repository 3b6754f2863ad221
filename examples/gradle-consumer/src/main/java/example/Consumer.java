package example;

import dev.flashattn4j.api.Attention;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import dev.flashattn4j.tensor.Tensor;

/**
 * Uses the library as a user's program would: causal attention on three tokens, then row 1 checked
 * against the same attention worked out by hand. Exits 1 when they differ.
 */
public final class Consumer {

  private Consumer() {}

  public static void main(String[] args) {
    // (N, d) = (3, 2): row i is token i
    Tensor q = Tensor.of(new float[] {0, 1, 1, 0, 1, 1}, 3, 2);
    Tensor k = Tensor.of(new float[] {1, 0, 0, 1, 5, 5}, 3, 2);
    Tensor v = Tensor.of(new float[] {1, 2, 3, 4, 100, 100}, 3, 2);
    AttentionOptions causal = AttentionOptions.builder().causal(Causal.TOP_LEFT).build();

    AttentionResult r = Attention.forward(q, k, v, causal);

    // By hand, row 1 (q = [1, 0]): causal, it sees keys 0 and 1 but not key 2 (whose V of 100
    // would dominate). Scores s_j = q·k_j / √d = 1/√2 and 0; p = softmax(s); o = p0·v0 + p1·v1.
    double s0 = 1 / Math.sqrt(2);
    double s1 = 0;
    double z = Math.exp(s0) + Math.exp(s1);
    double p0 = Math.exp(s0) / z;
    double p1 = Math.exp(s1) / z;
    double[] expected = {p0 * 1 + p1 * 3, p0 * 2 + p1 * 4};
    double expectedLse = Math.log(z);

    float[] o = r.output().toArray();
    double err =
        Math.max(
            Math.max(Math.abs(o[2] - expected[0]), Math.abs(o[3] - expected[1])),
            Math.abs(r.lse()[1] - expectedLse));
    System.out.printf(
        "row 1 of causal attention: [%.6f, %.6f], by hand [%.6f, %.6f], LSE %.6f (%.6f)%n",
        o[2], o[3], expected[0], expected[1], r.lse()[1], expectedLse);
    if (!(err <= 1e-6)) {
      System.out.println("MISMATCH: max |difference| = " + err);
      System.exit(1);
    }
    System.out.println("OK: max |difference| = " + err);
  }
}
