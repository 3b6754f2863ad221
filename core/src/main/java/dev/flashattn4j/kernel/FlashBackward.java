package dev.flashattn4j.kernel;

import dev.flashattn4j.config.KernelConfig;
import dev.flashattn4j.internal.JobPool;
import dev.flashattn4j.internal.Team;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionGradients;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionShape;
import java.util.Arrays;

/**
 * The backward pass of attention (FlashAttention-2's, on the CPU): from Q, K, V, the forward's O
 * and LSE, and dO, the gradients dQ, dK and dV, recomputing the scores tile by tile instead of
 * storing the N_q × N_k attention matrix. For a block of B_r query rows and a tile of B_c keys:
 *
 * <pre>
 *   S = scale·Q Kᵀ (soft-capped, masked)     P = exp(S − LSE)           (as the forward computed)
 *   dP = dO Vᵀ                                dS = P ∘ (dP − D) · cap′    D = rowsum(dO ∘ O)
 *   dV += Pᵀ dO      dK += dSᵀ Q · scale      dQ += dS K · scale
 * </pre>
 *
 * with cap′ = 1 − (S/c)² under a soft cap c. The products run on the forward's register-blocked
 * micro-kernels ({@link PanelKernel}), SIMD over the rows of the block.
 *
 * <p>Work is one item per (batch, K/V head, key chunk): the item runs its query blocks in order and
 * its key tiles in order, accumulating dK and dV of its keys in scratch (O(chunk·d) per thread) and
 * dQ of a block in a panel. When the chunk's K, V, dK and dV outgrow a few L2s, the item loads the
 * panels of a group of blocks at once and runs each sub-chunk of its keys against every block of
 * the group ({@link Tiles#backwardGroupBlocks}), so that a thread keeps a bounded set hot instead
 * of sweeping all its keys once per block (9–10% faster at N = 4096, d = 128); every sum keeps its
 * order, so the bits are the same; the G query heads that share the K/V head are packed in its rows
 * (GQA), so dK and dV sum over them without any reduction. With many (batch, K/V head) pairs the
 * chunk is every key. With few ({@link BackwardWork#chunkCount}: a function of the shape alone,
 * never of the threads) the keys are cut into chunks of at least {@value
 * BackwardWork#MIN_CHUNK_KEYS}, so that the cores have work, and the chunks add their part of a
 * block's dQ in chunk order: chunk c waits for chunk c − 1 to have added its part. Items are
 * claimed in order, chunk 0 of every pair first, so the one it waits for is running or done (done
 * long before, when there are several pairs). No atomics on the gradients and no order that depends
 * on scheduling: the gradients have the same bits for any thread count. Tiles no row can see
 * (causal, window) are skipped as in the forward.
 */
public final class FlashBackward {

  private final KernelConfig config;
  private final Team team;
  private final JobPool<BackwardCall> calls;

  /** A backward kernel on an engine's team. */
  public FlashBackward(KernelConfig config, Team team) {
    if (config == null || team == null) {
      throw new IllegalArgumentException("config and team must not be null");
    }
    this.config = config;
    this.team = team;
    this.calls = new JobPool<>(() -> new BackwardCall(config, team));
  }

  /**
   * The gradients into new tensors with the ranks of q, k and v.
   *
   * @param o the forward's output (B, H_q, N_q, d_v)
   * @param lse the forward's LSE, B·H_q·N_q floats
   * @param dOut the gradient of the loss with respect to O, (B, H_q, N_q, d_v)
   */
  public AttentionGradients backward(
      Tensor q, Tensor k, Tensor v, Tensor o, float[] lse, Tensor dOut, AttentionOptions options) {
    AttentionShape s = AttentionShape.of(q, k, v, options);
    Tensor dq = Tensor.zeros(q.shape());
    Tensor dk = Tensor.zeros(k.shape());
    Tensor dv = Tensor.zeros(v.shape());
    float[] dsinks = options.hasSinks() ? new float[s.queryHeads()] : null;
    backward(q, k, v, o, lse, dOut, options, dq, dk, dv, dsinks);
    return new AttentionGradients(dq, dk, dv, dsinks);
  }

  /**
   * {@link #backward(Tensor, Tensor, Tensor, Tensor, float[], Tensor, AttentionOptions, Tensor,
   * Tensor, Tensor, float[])} without the sinks' gradient.
   */
  public void backward(
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor o,
      float[] lse,
      Tensor dOut,
      AttentionOptions options,
      Tensor dq,
      Tensor dk,
      Tensor dv) {
    backward(q, k, v, o, lse, dOut, options, dq, dk, dv, null);
  }

  /**
   * The gradients into caller-owned tensors (any strides, overwritten): allocates nothing once
   * warmed up with these shapes.
   *
   * @param dsinks H_q floats for the sinks' gradient (overwritten), or null not to compute it
   */
  public void backward(
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor o,
      float[] lse,
      Tensor dOut,
      AttentionOptions options,
      Tensor dq,
      Tensor dk,
      Tensor dv,
      float[] dsinks) {
    run(q, k, v, o, lse, dOut, null, null, options, dq, dk, dv, dsinks);
  }

  private static void check(
      AttentionShape s,
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor o,
      float[] lse,
      Tensor dOut,
      Tensor dq,
      Tensor dk,
      Tensor dv) {
    if (o == null || lse == null || dOut == null || dq == null || dk == null || dv == null) {
      throw new IllegalArgumentException("o, lse, dOut, dq, dk and dv must not be null");
    }
    sameShape("o", o, s.batch(), s.queryHeads(), s.queryRows(), s.valueDim());
    sameShape("dOut", dOut, s.batch(), s.queryHeads(), s.queryRows(), s.valueDim());
    sameShape("dq", dq, s.batch(), s.queryHeads(), s.queryRows(), s.headDim());
    sameShape("dk", dk, s.batch(), s.kvHeads(), s.keyRows(), s.headDim());
    sameShape("dv", dv, s.batch(), s.kvHeads(), s.keyRows(), s.valueDim());
    if (lse.length != s.outputRows()) {
      throw new IllegalArgumentException(
          "lse has " + lse.length + " floats, needs B·H_q·N_q = " + s.outputRows());
    }
    checkGradient(dq, q, k, v, o, dOut);
    checkGradient(dk, q, k, v, o, dOut);
    checkGradient(dv, q, k, v, o, dOut);
    if (dq.data() == dk.data() || dq.data() == dv.data() || dk.data() == dv.data()) {
      throw new IllegalArgumentException("dq, dk and dv must be three different arrays");
    }
  }

  /**
   * The backward of varlen attention: sequence x of the packed batch is rows [cuQ[x], cuQ[x + 1])
   * of Q, O, dO, dQ and rows [cuK[x], cuK[x + 1]) of K, V, dK, dV; one item per (sequence, K/V
   * head). The offsets must have been checked ({@code VarlenAttention.check}).
   *
   * @param lse the varlen forward's LSE, (H_q, total_q) row-major
   * @param dsinks H_q floats for the sinks' gradient (summed over the sequences), or null
   */
  public void varlen(
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor o,
      float[] lse,
      Tensor dOut,
      int[] cuQ,
      int[] cuK,
      AttentionOptions options,
      Tensor dq,
      Tensor dk,
      Tensor dv,
      float[] dsinks) {
    run(q, k, v, o, lse, dOut, cuQ, cuK, options, dq, dk, dv, dsinks);
  }

  /** Checks a call (before anything is written) and runs it on a pooled call object. */
  private void run(
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor o,
      float[] lse,
      Tensor dOut,
      int[] cuQ,
      int[] cuK,
      AttentionOptions options,
      Tensor dq,
      Tensor dk,
      Tensor dv,
      float[] dsinks) {
    if (team.closed()) {
      throw new IllegalStateException("the engine was closed");
    }
    BackwardCall call = calls.take();
    try {
      AttentionShape s = call.shapeOf(q, k, v, options);
      check(s, q, k, v, o, lse, dOut, dq, dk, dv);
      if (dsinks != null && (!options.hasSinks() || dsinks.length != s.queryHeads())) {
        throw new IllegalArgumentException(
            "dsinks needs H_q = " + s.queryHeads() + " floats and options with sinks");
      }
      call.run(s, q, k, v, o, lse, dOut, options, dq, dk, dv, dsinks, cuQ, cuK);
    } finally {
      calls.give(call);
    }
  }

  /** The scratch bytes of the callers' pooled call objects (the workers' are their team's). */
  public long scratchBytes() {
    long[] total = {0};
    calls.forEachMade(c -> total[0] += c.callerScratch.bytes());
    return total[0];
  }

  private static void checkGradient(Tensor g, Tensor q, Tensor k, Tensor v, Tensor o, Tensor dOut) {
    float[] a = g.data();
    if (a == q.data() || a == k.data() || a == v.data() || a == o.data() || a == dOut.data()) {
      throw new IllegalArgumentException("dq, dk and dv must not share an array with the inputs");
    }
    if (FlashForward.overlapsItself(g)) {
      throw new IllegalArgumentException(g + " is a view whose elements overlap");
    }
  }

  private static void sameShape(String name, Tensor t, int b, int h, int n, int d) {
    if (t.batch() != b || t.heads() != h || t.rows() != n || t.cols() != d) {
      throw new IllegalArgumentException(
          name
              + " "
              + Arrays.toString(t.shape())
              + " must be ("
              + b
              + ", "
              + h
              + ", "
              + n
              + ", "
              + d
              + ")");
    }
  }
}
