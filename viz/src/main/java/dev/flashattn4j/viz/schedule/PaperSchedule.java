package dev.flashattn4j.viz.schedule;

import dev.flashattn4j.paper.Algorithm1;
import dev.flashattn4j.paper.BlockSizes;
import dev.flashattn4j.paper.IoModel;
import dev.flashattn4j.paper.IoTally;
import dev.flashattn4j.paper.StepListener;
import dev.flashattn4j.reference.NaiveAttention;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionResult;
import dev.flashattn4j.values.AttentionShape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The trace of a real run of {@link Algorithm1}: every (j, i) step as the algorithm's {@link
 * StepListener} reports it, with the HBM traffic its {@link dev.flashattn4j.paper.IoCounter}
 * counted. Nothing here recomputes the algorithm; it only records what the run did.
 */
public final class PaperSchedule {

  private PaperSchedule() {}

  /**
   * Runs Algorithm 1 on the setup's Q, K, V and records it.
   *
   * @throws IllegalArgumentException when M is too small for d
   */
  public static ScheduleTrace run(ScheduleSetup setup) {
    Tensor q = setup.q();
    Tensor k = setup.k();
    Tensor v = setup.v();
    Recorder recorder = new Recorder(q, k, v, setup.options());
    AttentionResult result =
        Algorithm1.compute(q, k, v, setup.options(), setup.sram(), null, recorder);
    int n = setup.n();
    int d = setup.d();
    Grid output = new Grid("O", n, d, result.output().toArray());
    Grid reference =
        new Grid(
            "O (vanilla)",
            n,
            d,
            NaiveAttention.compute(q, k, v, setup.options()).output().toArray());
    IoTally standard = IoModel.standard(1, n, n, d, d);
    BlockSizes s = recorder.sizes;
    long[] masked = maskedTraffic(recorder.steps, s, d);
    int[][] ranges = ScheduleTrace.keyRanges(setup.options(), n);
    String note =
        setup.scale() == 1f
            ? "scale 1, as the seed notebook: softmax(QKᵀ)V (PyTorch's default is 1/√d)"
            : "scale " + setup.scale();
    return new ScheduleTrace(
        "paper",
        "Algorithm 1 (FlashAttention): K/V blocks outside, Q blocks inside",
        note,
        n,
        d,
        setup.sram(),
        s.bc(),
        s.br(),
        s.tr(),
        s.tc(),
        setup.scale(),
        PseudoCode.ALGORITHM_1,
        initial(q, k, v),
        recorder.steps,
        output,
        reference,
        ScheduleTrace.maxDifference(output, reference),
        standard.totalReads(),
        standard.totalWrites(),
        setup.maskText(),
        masked[0],
        masked[1],
        ranges[0],
        ranges[1]);
  }

  /**
   * The HBM reads and writes of the steps on tiles no row sees, which a kernel that skips them
   * would not make: each such step's traffic, less the load of K_j, V_j (line 6, counted in the
   * step i = 1) when other tiles of column j need it.
   */
  private static long[] maskedTraffic(List<ScheduleStep> steps, BlockSizes s, int d) {
    long reads = 0;
    long writes = 0;
    for (int k = 0; k < steps.size(); k++) {
      ScheduleStep step = steps.get(k);
      if (step.tile() != TileKind.MASKED) {
        continue;
      }
      long r = step.reads() - (k == 0 ? 0 : steps.get(k - 1).reads());
      long w = step.written() - (k == 0 ? 0 : steps.get(k - 1).written());
      if (step.i() == 0) {
        boolean columnNeeded = false;
        for (ScheduleStep other : steps) {
          columnNeeded |= other.j() == step.j() && other.tile() != TileKind.MASKED;
        }
        if (columnNeeded) {
          r -= 2L * (s.colEnd(step.j()) - s.colStart(step.j())) * d;
        }
      }
      reads += r;
      writes += w;
    }
    return new long[] {reads, writes};
  }

  /** HBM before the loops (line 2): Q, K, V, O = 0, ℓ = 0, m = −∞. */
  static List<Grid> initial(Tensor q, Tensor k, Tensor v) {
    int n = q.rows();
    float[] m = new float[n];
    Arrays.fill(m, Float.NEGATIVE_INFINITY);
    return List.of(
        grid("Q", q),
        grid("K", k),
        grid("V", v),
        new Grid("O", n, v.cols(), new float[n * v.cols()]),
        Grid.column("ℓ", new float[n]),
        Grid.column("m", m));
  }

  static Grid grid(String name, Tensor t) {
    return new Grid(name, t.rows(), t.cols(), t.toArray());
  }

  /** Turns the listener's steps into {@link ScheduleStep}s. */
  private static final class Recorder implements StepListener {
    private final Grid q;
    private final Grid k;
    private final Grid v;
    private final AttentionOptions options;
    private final List<ScheduleStep> steps = new ArrayList<>();
    private BlockSizes sizes;
    private float[] lBefore;
    private float[] mBefore;

    Recorder(Tensor q, Tensor k, Tensor v, AttentionOptions options) {
      this.q = grid("Q", q);
      this.k = grid("K", k);
      this.v = grid("V", v);
      this.options = options;
    }

    @Override
    public void start(BlockSizes sizes, AttentionShape shape) {
      this.sizes = sizes;
      lBefore = new float[shape.queryRows()];
      mBefore = new float[shape.queryRows()];
      Arrays.fill(mBefore, Float.NEGATIVE_INFINITY);
    }

    @Override
    public void step(Step s) {
      int r0 = s.rowStart();
      int r1 = s.rowEnd();
      int c0 = s.colStart();
      int c1 = s.colEnd();
      int dv = v.cols();
      Grid o = new Grid("O", s.o().length / dv, dv, s.o());
      String ij = "j = " + (s.j() + 1) + ", i = " + (s.i() + 1);
      List<Integer> lines =
          s.i() == 0 ? List.of(6, 8, 9, 10, 11, 12, 13) : List.of(8, 9, 10, 11, 12, 13);
      TileKind tile = TileKind.of(options, q.rows(), r0, r1, c0, c1);
      String caption =
          (s.i() == 0 ? "line 6: load K_j, V_j; " : "")
              + "lines 8–13 for "
              + ij
              + switch (tile) {
                case FULL ->
                    ": load Q_i, O_i, ℓ_i, m_i; S_ij = Q_i K_jᵀ; update m_i, ℓ_i;"
                        + " write O_i, ℓ_i, m_i";
                case DIAGONAL ->
                    ", a diagonal tile: S_ij = Q_i K_jᵀ with the hidden keys at −∞;"
                        + " update m_i, ℓ_i; write O_i, ℓ_i, m_i";
                case MASKED ->
                    ", a tile no row sees (S_ij all −∞): Algorithm 1 loads, computes and"
                        + " writes it anyway; the fast kernel skips it";
              };
      List<Highlight> highlights =
          List.of(
              new Highlight("Q", r0, r1, Highlight.Block.QUERY, false),
              new Highlight("K", c0, c1, Highlight.Block.KEY, false),
              new Highlight("V", c0, c1, Highlight.Block.KEY, false),
              new Highlight("O", r0, r1, Highlight.Block.QUERY, true),
              new Highlight("ℓ", r0, r1, Highlight.Block.QUERY, true),
              new Highlight("m", r0, r1, Highlight.Block.QUERY, true));
      List<BlockWrite> writes =
          List.of(
              new BlockWrite("O", r0, o.rows("O_i", r0, r1)),
              new BlockWrite("ℓ", r0, Grid.column("ℓ_i", Arrays.copyOfRange(s.l(), r0, r1))),
              new BlockWrite("m", r0, Grid.column("m_i", Arrays.copyOfRange(s.m(), r0, r1))));
      List<Grid> sram =
          List.of(
              k.rows("K_j", c0, c1),
              v.rows("V_j", c0, c1),
              q.rows("Q_i", r0, r1),
              o.rows("O_i", r0, r1));
      List<Grid> stats =
          List.of(
              Grid.column("m_i", Arrays.copyOfRange(mBefore, r0, r1)),
              Grid.column("m̃_ij", s.mTilde()),
              Grid.column("m_i^new", s.mNew()),
              Grid.column("ℓ_i", Arrays.copyOfRange(lBefore, r0, r1)),
              Grid.column("ℓ̃_ij", s.lTilde()),
              Grid.column("ℓ_i^new", s.lNew()));
      steps.add(
          new ScheduleStep(
              s.i(),
              s.j(),
              lines,
              caption,
              highlights,
              writes,
              sram,
              new Grid("S_ij", s.rows(), s.cols(), s.sij()),
              stats,
              s.io().totalReads(),
              s.io().totalWrites(),
              tile,
              false,
              0));
      lBefore = s.l().clone();
      mBefore = s.m().clone();
    }
  }
}
