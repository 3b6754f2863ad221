package dev.flashattn4j.viz.schedule;

import dev.flashattn4j.paper.BlockSizes;
import dev.flashattn4j.paper.IoModel;
import dev.flashattn4j.paper.IoTally;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A small model of the fast kernel's loop order, FlashAttention-2's: Q blocks outside, K/V blocks
 * streamed inside, m, ℓ and the unnormalised O_i kept on chip and O_i normalised once, written once
 * with its log-sum-exp L_i. It runs the same arithmetic on the same blocks as {@link PaperSchedule}
 * (the paper's B_r, B_c from M) so that the two schedules can be compared step by step; the real
 * fast kernel sizes its tiles from the CPU caches instead, and the pictures say so.
 *
 * <p>HBM traffic of this order: Q_i once (B_r'·d), K_j and V_j once per (i, j) (B_c'·2d), O_i and
 * L_i written once (B_r'·(d + 1)): N·d + T_r·N·2d reads and N·(d + 1) writes in all. Under a causal
 * mask or a window, a tile no row of Q_i sees is skipped as the fast kernel skips it: K_j and V_j
 * are not loaded (B_c'·2d reads saved) and nothing is computed; a diagonal tile is computed with
 * its hidden scores at −∞. A row that sees no key at all gets O = 0 and L = −∞.
 */
public final class FastSchedule {

  private FastSchedule() {}

  /** Runs the model on the setup's Q, K, V and records every (i, j) step. */
  public static ScheduleTrace run(ScheduleSetup setup) {
    Tensor qt = setup.q();
    Tensor kt = setup.k();
    Tensor vt = setup.v();
    int n = setup.n();
    int d = setup.d();
    AttentionOptions options = setup.options();
    BlockSizes s = BlockSizes.of(setup.sram(), d, n, n);
    Grid q = PaperSchedule.grid("Q", qt);
    Grid k = PaperSchedule.grid("K", kt);
    Grid v = PaperSchedule.grid("V", vt);
    float[] out = new float[n * d];
    float[] lse = new float[n];
    long reads = 0;
    long writes = 0;
    long saved = 0;
    List<ScheduleStep> steps = new ArrayList<>();
    for (int i = 0; i < s.tr(); i++) {
      int r0 = s.rowStart(i);
      int r1 = s.rowEnd(i);
      int br = r1 - r0;
      reads += (long) br * d; // line 4: load Q_i
      // line 5: on chip, O_i = 0, ℓ_i = 0, m_i = −∞
      float[] acc = new float[br * d];
      float[] l = new float[br];
      float[] m = new float[br];
      Arrays.fill(m, Float.NEGATIVE_INFINITY);
      for (int j = 0; j < s.tc(); j++) {
        int c0 = s.colStart(j);
        int c1 = s.colEnd(j);
        int bc = c1 - c0;
        TileKind tile = TileKind.of(options, n, r0, r1, c0, c1);
        boolean skip = tile == TileKind.MASKED;
        float[] mOld = m.clone();
        float[] lOld = l.clone();
        float[] sij = new float[skip ? 0 : br * bc];
        if (skip) {
          saved += 2L * bc * d; // no row of Q_i sees K_j: K_j, V_j stay in HBM
        } else {
          reads += 2L * bc * d; // line 7: load K_j, V_j
        }
        for (int r = 0; r < br && !skip; r++) {
          // line 8: S_i^(j) = Q_i K_jᵀ, −∞ where causality or the window hides the key
          int visibleFrom = options.keyStart(r0 + r, n, n);
          int visibleTo = options.keyEnd(r0 + r, n, n);
          float rowMax = Float.NEGATIVE_INFINITY;
          for (int c = 0; c < bc; c++) {
            if (c0 + c < visibleFrom || c0 + c >= visibleTo) {
              sij[r * bc + c] = Float.NEGATIVE_INFINITY;
              continue;
            }
            double dot = 0;
            for (int e = 0; e < d; e++) {
              dot += (double) q.get(r0 + r, e) * k.get(c0 + c, e);
            }
            sij[r * bc + c] = (float) (setup.scale() * dot);
            rowMax = Math.max(rowMax, sij[r * bc + c]);
          }
          // line 9: m^(j) = max(m^(j−1), rowmax S), P̃ = exp(S − m^(j)), ℓ^(j) = e^{…}ℓ^(j−1) +
          // rowsum P̃
          float mNew = Math.max(m[r], rowMax);
          float alpha = m[r] == mNew ? 1f : (float) Math.exp(m[r] - mNew);
          double rowSum = 0;
          double[] pv = new double[d];
          for (int c = 0; c < bc; c++) {
            // a hidden key adds nothing (and −∞ − −∞ is never taken)
            float p =
                sij[r * bc + c] == Float.NEGATIVE_INFINITY
                    ? 0f
                    : (float) Math.exp(sij[r * bc + c] - mNew);
            rowSum += p;
            for (int e = 0; e < d; e++) {
              pv[e] += (double) p * v.get(c0 + c, e);
            }
          }
          l[r] = alpha * l[r] + (float) rowSum;
          m[r] = mNew;
          // line 10: O_i^(j) = diag(e^{m^(j−1) − m^(j)}) O_i^(j−1) + P̃ V_j
          for (int e = 0; e < d; e++) {
            acc[r * d + e] = alpha * acc[r * d + e] + (float) pv[e];
          }
        }
        boolean last = j == s.tc() - 1;
        List<BlockWrite> blockWrites = List.of();
        Grid onChipO = new Grid("Õ_i", br, d, acc.clone());
        if (last) {
          // lines 12–15: O_i = diag(ℓ_i)⁻¹ O_i, L_i = m_i + log ℓ_i, written to HBM once
          float[] oi = new float[br * d];
          float[] li = new float[br];
          for (int r = 0; r < br; r++) {
            // a row that saw no key: O = 0, L = −∞ (never 0/0)
            for (int e = 0; e < d; e++) {
              oi[r * d + e] = l[r] == 0f ? 0f : acc[r * d + e] / l[r];
            }
            li[r] = l[r] == 0f ? Float.NEGATIVE_INFINITY : m[r] + (float) Math.log(l[r]);
          }
          System.arraycopy(oi, 0, out, r0 * d, oi.length);
          System.arraycopy(li, 0, lse, r0, br);
          writes += (long) br * (d + 1);
          onChipO = new Grid("O_i", br, d, oi);
          blockWrites =
              List.of(
                  new BlockWrite("O", r0, new Grid("O_i", br, d, oi)),
                  new BlockWrite("L", r0, Grid.column("L_i", li)));
        }
        steps.add(
            step(
                i,
                j,
                s,
                r0,
                r1,
                c0,
                c1,
                q,
                k,
                v,
                sij,
                mOld,
                m,
                lOld,
                l,
                onChipO,
                blockWrites,
                reads,
                writes,
                tile,
                saved));
      }
    }
    Grid output = new Grid("O", n, d, out);
    Grid reference =
        new Grid(
            "O (vanilla)",
            n,
            d,
            NaiveAttention.compute(qt, kt, vt, setup.options()).output().toArray());
    IoTally standard = IoModel.standard(1, n, n, d, d);
    int[][] ranges = ScheduleTrace.keyRanges(options, n);
    float[] lInit = new float[n];
    Arrays.fill(lInit, Float.NEGATIVE_INFINITY);
    List<Grid> initial =
        List.of(q, k, v, new Grid("O", n, d, new float[n * d]), Grid.column("L", lInit));
    String note =
        "a model of the fast kernel's loop order with the paper's B_r, B_c;"
            + " the real kernel's tiles are sized from the CPU caches";
    return new ScheduleTrace(
        "fast",
        "FlashAttention-2 order (the fast kernel): Q blocks outside, K/V blocks inside",
        note,
        n,
        d,
        setup.sram(),
        s.bc(),
        s.br(),
        s.tr(),
        s.tc(),
        setup.scale(),
        PseudoCode.FLASH_ATTENTION_2,
        initial,
        steps,
        output,
        reference,
        ScheduleTrace.maxDifference(output, reference),
        standard.totalReads(),
        standard.totalWrites(),
        setup.maskText(),
        0,
        0,
        ranges[0],
        ranges[1]);
  }

  private static ScheduleStep step(
      int i,
      int j,
      BlockSizes s,
      int r0,
      int r1,
      int c0,
      int c1,
      Grid q,
      Grid k,
      Grid v,
      float[] sij,
      float[] mOld,
      float[] m,
      float[] lOld,
      float[] l,
      Grid onChipO,
      List<BlockWrite> writes,
      long reads,
      long written,
      TileKind tile,
      long saved) {
    boolean first = j == 0;
    boolean last = j == s.tc() - 1;
    boolean skip = tile == TileKind.MASKED;
    List<Integer> lines = new ArrayList<>();
    if (first) {
      lines.addAll(List.of(4, 5));
    }
    lines.addAll(skip ? List.of(6) : List.of(7, 8, 9, 10));
    if (last) {
      lines.addAll(List.of(12, 13, 14, 15));
    }
    String ij = "i = " + (i + 1) + ", j = " + (j + 1);
    String caption =
        (first ? "lines 4–5: load Q_i, start m_i, ℓ_i, O_i on chip; " : "")
            + switch (tile) {
              case FULL ->
                  "lines 7–10 for "
                      + ij
                      + ": load K_j, V_j; S = Q_i K_jᵀ; update m_i, ℓ_i and the unnormalised Õ_i"
                      + " on chip";
              case DIAGONAL ->
                  "lines 7–10 for "
                      + ij
                      + ", a diagonal tile: load K_j, V_j; S = Q_i K_jᵀ with the hidden keys at −∞;"
                      + " update m_i, ℓ_i, Õ_i";
              case MASKED ->
                  ij
                      + ": no row of Q_i sees K_j: tile skipped, K_j and V_j stay in HBM ("
                      + 2L * (c1 - c0) * q.cols()
                      + " reads saved)";
            }
            + (last ? "; lines 12–15: normalise O_i, write O_i, L_i" : "");
    List<Highlight> highlights = new ArrayList<>();
    highlights.add(new Highlight("Q", r0, r1, Highlight.Block.QUERY, false));
    if (!skip) {
      highlights.add(new Highlight("K", c0, c1, Highlight.Block.KEY, false));
      highlights.add(new Highlight("V", c0, c1, Highlight.Block.KEY, false));
    }
    highlights.add(new Highlight("O", r0, r1, Highlight.Block.QUERY, last));
    highlights.add(new Highlight("L", r0, r1, Highlight.Block.QUERY, last));
    int br = r1 - r0;
    List<Grid> sram =
        skip
            ? List.of(q.rows("Q_i", r0, r1), onChipO)
            : List.of(k.rows("K_j", c0, c1), v.rows("V_j", c0, c1), q.rows("Q_i", r0, r1), onChipO);
    List<Grid> stats =
        List.of(
            Grid.column("m_i^(j−1)", Arrays.copyOf(mOld, br)),
            Grid.column("m_i^(j)", m.clone()),
            Grid.column("ℓ_i^(j−1)", Arrays.copyOf(lOld, br)),
            Grid.column("ℓ_i^(j)", l.clone()));
    return new ScheduleStep(
        i,
        j,
        lines,
        caption,
        highlights,
        writes,
        sram,
        new Grid("S_i^(j)", skip ? 0 : br, c1 - c0, sij),
        stats,
        reads,
        written,
        tile,
        skip,
        saved);
  }
}
