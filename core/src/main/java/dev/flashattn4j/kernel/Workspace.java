package dev.flashattn4j.kernel;

import dev.flashattn4j.internal.DropoutBits;
import dev.flashattn4j.internal.Scratch;
import dev.flashattn4j.values.Dropout;

/**
 * One thread's scratch memory, allocated once and grown only when a call needs larger tiles. Its
 * budget, in floats, for B_r query rows, B_c keys per tile, head dims d and d_v:
 *
 * <pre>
 *   Qᵀ panel (scaled)     d   · B_r
 *   S / P tile            B_c · B_r
 *   Oᵀ accumulator        d_v · B_r
 *   m, l, α, Σp           4   · B_r     (+ 4 · B_r ints: key ranges, head and index of rows)
 * </pre>
 *
 * about 50 KiB for d = d_v = 64, B_r = 64, B_c = 64: it depends on the tile, never on N.
 */
final class Workspace implements Scratch.Sized {

  final SequenceSpan span = new SequenceSpan();
  float[] qt = new float[0];
  float[] s = new float[0];
  float[] ot = new float[0];
  OnlineSoftmax softmax = new OnlineSoftmax(0);
  BlockInfo info = new BlockInfo(0);
  int[] rowHead = new int[0];
  int[] rowPos = new int[0];
  DropoutBits dropout; // the keep bits of the current call's dropout, made on first use

  /** The dropout bits of this thread for {@code d}. */
  DropoutBits dropout(Dropout d) {
    if (dropout == null) {
      dropout = new DropoutBits(d.p(), d.seed(), d.offset());
    } else if (!dropout.draws(d.p(), d.seed(), d.offset())) {
      dropout.reset(d.p(), d.seed(), d.offset());
    }
    return dropout;
  }

  /** Makes room for tiles of {@code br} rows and {@code bc} keys with head dims d, d_v. */
  void ensure(int br, int bc, int d, int dv) {
    if (qt.length < d * br) {
      qt = new float[d * br];
    }
    if (s.length < bc * br) {
      s = new float[bc * br];
    }
    if (ot.length < dv * br) {
      ot = new float[dv * br];
    }
    if (softmax.rowMax.length < br) {
      softmax = new OnlineSoftmax(br);
      info = new BlockInfo(br);
      rowHead = new int[br];
      rowPos = new int[br];
    }
  }

  /** The bytes a workspace needs for these tiles (the budget above). */
  static long bytes(int br, int bc, int d, int dv) {
    return (long) Float.BYTES * br * ((long) d + bc + dv + 4) + (long) Integer.BYTES * 4 * br;
  }

  /** The bytes this workspace holds now. */
  @Override
  public long bytes() {
    return (long) Float.BYTES * (qt.length + s.length + ot.length + 4L * softmax.rowMax.length)
        + (long) Integer.BYTES * 4 * info.start.length;
  }
}
