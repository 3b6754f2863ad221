package dev.flashattn4j.testing;

import dev.flashattn4j.api.AttentionEngine;
import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionGradients;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.Causal;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * One call of every option on every path (forward SIMD and scalar, decode, varlen, backward), each
 * reduced to a checksum of its result's bits. Run in a JVM that only interprets ({@code -Xint}),
 * one that stops at C1, and one where C2 has compiled everything, the checksums must agree: no
 * result may depend on the JIT's state. {@code main} prints {@code name=checksum} lines.
 */
public final class BitsProbe {

  private static final int N = 48;
  private static final int D = 32;

  private BitsProbe() {}

  public static void main(String[] args) {
    run().forEach((name, sum) -> System.out.println(name + "=" + sum));
  }

  /** Every case's checksum, in a fixed order. */
  public static Map<String, Long> run() {
    Map<String, Long> out = new LinkedHashMap<>();
    Tensor q = TestTensors.normal(1, 1, 4, N, D);
    Tensor k = TestTensors.normal(2, 1, 2, N, D);
    Tensor v = TestTensors.normal(3, 1, 2, N, D);
    float[] bias = new float[N * N];
    boolean[] keep = new boolean[N * N];
    for (int i = 0; i < bias.length; i++) {
      bias[i] = (i * 7919) % 11 == 0 ? -Float.MAX_VALUE : ((i * 31) % 7) * 0.25f;
      keep[i] = (i * 104729) % 5 != 0;
    }
    Map<String, AttentionOptions> options = new LinkedHashMap<>();
    options.put("plain", AttentionOptions.DEFAULTS);
    options.put("causal top-left", AttentionOptions.builder().causal(Causal.TOP_LEFT).build());
    options.put(
        "causal bottom-right", AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).build());
    options.put("window", AttentionOptions.builder().window(9, 2).build());
    options.put("softcap", AttentionOptions.builder().softcap(0.7f).build());
    options.put("extreme softcap", AttentionOptions.builder().softcap(3e38f).build());
    options.put("scale", AttentionOptions.builder().scale(0.05f).build());
    options.put(
        "float mask", AttentionOptions.builder().mask(AttentionMask.additive(bias, N, N)).build());
    options.put(
        "keep mask", AttentionOptions.builder().mask(AttentionMask.keep(keep, N, N)).build());
    options.put(
        "dropout", AttentionOptions.builder().dropout(0.3f, 11, 2).causal(Causal.TOP_LEFT).build());
    for (boolean vector : new boolean[] {true, false}) {
      KernelConfig config = KernelConfig.defaults().withThreads(2).withVectorized(vector);
      try (AttentionEngine e = AttentionEngine.create(config)) {
        String path = vector ? "simd " : "scalar ";
        options.forEach((name, o) -> out.put(path + name, sum(e.forward(q, k, v, o))));
        for (String name : new String[] {"plain", "dropout", "softcap"}) {
          AttentionOptions o = options.get(name);
          AttentionResult f = e.forward(q, k, v, o);
          AttentionGradients g = e.backward(q, k, v, f.output(), f.lse(), q, o);
          out.put(path + "backward " + name, sum(g.dq(), g.dk(), g.dv()));
        }
        AttentionOptions causal = options.get("causal bottom-right");
        out.put(
            path + "varlen",
            sum(
                e.varlen(
                    q.withRank(4),
                    k.withRank(4),
                    v.withRank(4),
                    new int[] {0, 20, N},
                    new int[] {0, 30, N},
                    causal)));
        PagedKvCache cache = new PagedKvCache(1, 2, D, D, 16, 8, KvStorage.FLOAT32);
        int seq = cache.newSequence();
        cache.append(seq, k, v);
        AttentionOptions decodeOptions =
            AttentionOptions.builder().causal(Causal.BOTTOM_RIGHT).window(20, 0).softcap(5).build();
        Tensor last =
            Tensor.view(
                q.data(),
                q.rowOffset(0, 0, N - 3),
                new int[] {1, 4, 3, D},
                new int[] {q.batchStride(), q.headStride(), q.rowStride()});
        out.put(path + "decode", sum(e.decode(cache, 0, new int[] {seq}, last, decodeOptions)));
        AttentionOptions backwardOptions =
            AttentionOptions.builder().causal(Causal.TOP_LEFT).softcap(2f).build();
        AttentionResult r = e.forward(q, k, v, backwardOptions);
        Tensor dOut = TestTensors.normal(4, 1, 4, N, D);
        AttentionGradients g = e.backward(q, k, v, r.output(), r.lse(), dOut, backwardOptions);
        out.put(path + "backward", sum(g.dq(), g.dk(), g.dv()));
      }
    }
    return out;
  }

  private static long sum(Tensor... ts) {
    CRC32 crc = new CRC32();
    for (Tensor t : ts) {
      for (float x : t.toArray()) {
        crc.update(Float.floatToRawIntBits(x));
      }
    }
    return crc.getValue();
  }

  private static long sum(AttentionResult r) {
    CRC32 crc = new CRC32();
    for (float x : r.output().toArray()) {
      crc.update(Float.floatToRawIntBits(x));
    }
    for (float x : r.lse()) {
      crc.update(Float.floatToRawIntBits(x));
    }
    return crc.getValue();
  }
}
