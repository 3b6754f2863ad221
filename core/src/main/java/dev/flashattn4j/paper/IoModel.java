package dev.flashattn4j.paper;

import dev.flashattn4j.internal.Checks;

/**
 * Closed forms of the HBM traffic (in elements) that {@link Algorithm1} and {@link
 * StandardAttention} count, per paper line, for {@code heads} = B·H_q (batch, head) pairs. They are
 * derived in docs/IO_MODEL.md; the tests check that the counts equal them exactly.
 *
 * <p>The initialisation of O, ℓ, m in HBM (Algorithm 1, line 2) is not counted: it writes constants
 * and moves nothing between HBM and SRAM.
 */
public final class IoModel {

  private IoModel() {}

  /**
   * Algorithm 1 with block sizes {@code s} (made from M and max(d, d_v)):
   *
   * <pre>
   *   line 6  reads  N_k (d + d_v)             K_j, V_j once each
   *   line 8  reads  T_c N_q (d + d_v + 2)     Q_i, O_i, ℓ_i, m_i once per j
   *   line 12 writes T_c N_q d_v               O_i once per j
   *   line 13 writes T_c N_q · 2               ℓ_i, m_i once per j
   * </pre>
   *
   * Peak SRAM: the first (largest) blocks, B_c' = min(B_c, N_k), B_r' = min(B_r, N_q): B_c'(d +
   * d_v) + B_r'(d + d_v + 2) + B_r' B_c' + 4 B_r'.
   *
   * @param heads B·H_q
   * @param d the head dimension of Q and K
   * @param dv the head dimension of V
   */
  public static IoTally algorithm1(long heads, BlockSizes s, int d, int dv) {
    Checks.notNull(s, "sizes");
    long nq = s.nq();
    long nk = s.nk();
    long[] reads = new long[IoTally.LINES];
    long[] writes = new long[IoTally.LINES];
    reads[6] = heads * nk * (d + dv);
    reads[8] = heads * s.tc() * nq * (d + dv + 2);
    writes[12] = heads * s.tc() * nq * dv;
    writes[13] = heads * s.tc() * nq * 2;
    long bc = Math.min(s.bc(), nk);
    long br = Math.min(s.br(), nq);
    long peak = nq == 0 || nk == 0 ? 0 : bc * (d + dv) + br * (d + dv + 2) + br * bc + 4 * br;
    return new IoTally(reads, writes, heads == 0 ? 0 : peak);
  }

  /**
   * Standard attention (Algorithm 0):
   *
   * <pre>
   *   line 1 reads  N_q d + N_k d      writes N_q N_k   (Q, K in; S out)
   *   line 2 reads  N_q N_k            writes N_q N_k   (S in; P out)
   *   line 3 reads  N_q N_k + N_k d_v  writes N_q d_v   (P, V in; O out)
   * </pre>
   *
   * Peak SRAM (K or V kept on chip while rows stream): max(N_k d + d + N_k, N_k d_v + N_k + d_v).
   *
   * @param heads B·H_q
   */
  public static IoTally standard(long heads, int nq, int nk, int d, int dv) {
    long q = nq;
    long k = nk;
    long[] reads = new long[IoTally.LINES];
    long[] writes = new long[IoTally.LINES];
    reads[1] = heads * (q * d + k * d);
    writes[1] = heads * q * k;
    reads[2] = heads * q * k;
    writes[2] = heads * q * k;
    reads[3] = heads * (q * k + k * dv);
    writes[3] = heads * q * dv;
    long peak = Math.max(k * d + d + k, k * dv + k + dv);
    return new IoTally(reads, writes, heads == 0 || nq == 0 ? 0 : peak);
  }

  /**
   * Algorithm 4, the backward pass, with block sizes {@code s}:
   *
   * <pre>
   *   line 7  reads  N_k (d + d_v)                   K_j, V_j once each
   *   line 10 reads  T_c N_q (2d + 2d_v + 2)         Q_i, O_i, dO_i, dQ_i, ℓ_i, m_i once per j
   *   line 21 writes T_c N_q d                       dQ_i once per j
   *   line 24 writes N_k (d + d_v)                   dK_j, dV_j once each
   * </pre>
   *
   * With T_c = ⌈N_k/B_c⌉ and B_c = Θ(M/d), that is Θ(N²d²/M) (Theorem 5). Peak SRAM: 2B_c'(d + d_v)
   * + B_r'(2d + 2d_v + 2) + 2B_r'B_c' + B_r' with the first (largest) blocks.
   *
   * @param heads B·H_q
   */
  public static IoTally algorithm4(long heads, BlockSizes s, int d, int dv) {
    Checks.notNull(s, "sizes");
    long nq = s.nq();
    long nk = s.nk();
    long[] reads = new long[IoTally.LINES];
    long[] writes = new long[IoTally.LINES];
    reads[7] = heads * nk * (d + dv);
    reads[10] = heads * s.tc() * nq * (2L * d + 2L * dv + 2);
    writes[21] = heads * s.tc() * nq * d;
    writes[24] = heads * nk * (d + dv);
    long bc = Math.min(s.bc(), nk);
    long br = Math.min(s.br(), nq);
    long peak =
        nq == 0 || nk == 0 ? 0 : 2 * bc * (d + dv) + br * (2L * d + 2L * dv + 2) + 2 * br * bc + br;
    return new IoTally(reads, writes, heads == 0 ? 0 : peak);
  }

  /**
   * Standard attention's backward (the paper's Algorithm 3), from P and dO in HBM:
   *
   * <pre>
   *   line 1 reads  N_q N_k + N_q d_v   writes N_k d_v     (P, dO in; dV = Pᵀ dO out)
   *   line 2 reads  N_q d_v + N_k d_v   writes N_q N_k     (dO, V in; dP = dO Vᵀ out)
   *   line 3 reads  2 N_q N_k           writes N_q N_k     (P, dP in; dS out)
   *   line 4 reads  N_q N_k + N_k d     writes N_q d       (dS, K in; dQ = dS K out)
   *   line 5 reads  N_q N_k + N_q d     writes N_k d       (dS, Q in; dK = dSᵀ Q out)
   * </pre>
   *
   * Θ(Nd + N²) (Theorem 5). Peak SRAM: one operand kept on chip while the rows (or columns) of the
   * other stream past, as for Algorithm 0: dO for line 1, V for line 2, K for line 4, Q for line 5,
   * each with one row in and one row out; line 3 holds a row of P, dP and dS.
   *
   * @param heads B·H_q
   */
  public static IoTally standardBackward(long heads, int nq, int nk, int d, int dv) {
    long q = nq;
    long k = nk;
    long[] reads = new long[IoTally.LINES];
    long[] writes = new long[IoTally.LINES];
    reads[1] = heads * (q * k + q * dv);
    writes[1] = heads * k * dv;
    reads[2] = heads * (q * dv + k * dv);
    writes[2] = heads * q * k;
    reads[3] = heads * 2 * q * k;
    writes[3] = heads * q * k;
    reads[4] = heads * (q * k + k * d);
    writes[4] = heads * q * d;
    reads[5] = heads * (q * k + q * d);
    writes[5] = heads * k * d;
    long peak =
        Math.max(
            Math.max(q * dv + q + dv, k * dv + dv + k),
            Math.max(3 * k, Math.max(k * d + k + d, q * d + q + d)));
    return new IoTally(reads, writes, heads == 0 || nq == 0 || nk == 0 ? 0 : peak);
  }

  /**
   * One row of a sweep over block sizes (the paper's Figure 2, middle).
   *
   * @param blocks the block sizes of Algorithm 1 for this M
   * @param algorithm1 Algorithm 1's traffic
   * @param standard standard attention's traffic (independent of M)
   */
  public record SweepRow(BlockSizes blocks, IoTally algorithm1, IoTally standard) {}

  /**
   * HBM traffic against block size at fixed sizes: B_c = 1, 2, 4, … up to the first power of two ≥
   * N_k, with M = 4·max(d, d_v)·B_c (so that ⌈M/4d⌉ = B_c exactly).
   *
   * @param heads B·H_q
   */
  public static java.util.List<SweepRow> sweep(long heads, int nq, int nk, int d, int dv) {
    int de = Math.max(d, dv);
    IoTally standard = standard(heads, nq, nk, d, dv);
    java.util.List<SweepRow> rows = new java.util.ArrayList<>();
    for (long bc = 1; ; bc *= 2) {
      BlockSizes blocks = BlockSizes.of(Math.toIntExact(4 * de * bc), de, nq, nk);
      rows.add(new SweepRow(blocks, algorithm1(heads, blocks, d, dv), standard));
      if (bc >= nk) {
        return rows;
      }
    }
  }

  /** Theorem 2's order for Algorithm 1 with N_q = N_k = N: N²d²/M. */
  public static double theorem2Algorithm1(int n, int d, int sram) {
    return (double) n * n * d * d / sram;
  }

  /** Theorem 2's order for standard attention: Nd + N². */
  public static double theorem2Standard(int n, int d) {
    return (double) n * d + (double) n * n;
  }
}
