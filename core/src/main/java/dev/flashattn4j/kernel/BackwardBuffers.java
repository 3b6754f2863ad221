package dev.flashattn4j.kernel;

import dev.flashattn4j.internal.DropoutBits;
import dev.flashattn4j.internal.Scratch;
import dev.flashattn4j.values.Dropout;
import java.util.Arrays;

/** One thread's scratch: the panels of a block, the tiles, dK and dV of an item's keys. */
final class BackwardBuffers implements Scratch.Sized {
  QueryBlock[] blocks = new QueryBlock[0]; // the query blocks of a group, with their panels
  float[] st = new float[0]; // Sᵀ: [j·B_r + r]
  float[] pt = new float[0]; // Pᵀ
  float[] dst = new float[0]; // dPᵀ, then dSᵀ
  float[] zt = new float[0]; // the dropout factors of the tile
  float[] capt = new float[0]; // the capped scores before a float mask
  DropoutBits dropout;

  DropoutBits dropout(Dropout d) {
    if (dropout == null) {
      dropout = new DropoutBits(d.p(), d.seed(), d.offset());
    } else if (!dropout.draws(d.p(), d.seed(), d.offset())) {
      dropout.reset(d.p(), d.seed(), d.offset());
    }
    return dropout;
  }

  float[] dkAcc = new float[0]; // the item's dK: [j·dPad + c]
  float[] dvAcc = new float[0]; // the item's dV: [j·dvPad + c]
  float[] ones = new float[0];
  // the item's sequence: batch entry b (or 0 for varlen), its first rows and sizes
  final SequenceSpan span = new SequenceSpan();
  int seq;
  // the item's key chunk [kStart, kEnd), its index, and its sequence and head's first turn
  int chunk;
  int kStart;
  int kEnd;
  int turnBase;

  /**
   * Makes room for the call's tiles; the dropout factors and the capped scores only when the call
   * needs them.
   */
  void ensure(
      int br,
      int bc,
      int dPad,
      int dvPad,
      int keys,
      int groupBlocks,
      boolean dropout,
      boolean keepCapped) {
    if (blocks.length < groupBlocks) {
      QueryBlock[] more = Arrays.copyOf(blocks, groupBlocks);
      for (int g = blocks.length; g < groupBlocks; g++) {
        more[g] = new QueryBlock();
      }
      blocks = more;
    }
    for (int g = 0; g < groupBlocks; g++) {
      blocks[g].ensure(br, dPad, dvPad);
    }
    st = grow(st, bc * br);
    pt = grow(pt, bc * br);
    dst = grow(dst, bc * br);
    if (dropout) {
      zt = grow(zt, bc * br);
    }
    if (keepCapped) {
      capt = grow(capt, bc * br);
    }
    dkAcc = grow(dkAcc, keys * dPad);
    dvAcc = grow(dvAcc, keys * dvPad);
    int onesNeeded = Math.max(br, Math.max(dPad, dvPad));
    if (ones.length < onesNeeded) {
      ones = new float[onesNeeded];
      Arrays.fill(ones, 1f);
    }
  }

  static float[] grow(float[] a, int n) {
    return a.length < n ? new float[n] : a;
  }

  @Override
  public long bytes() {
    long floats =
        (long) st.length
            + pt.length
            + dst.length
            + ones.length
            + dkAcc.length
            + dvAcc.length
            + zt.length
            + capt.length;
    long bytes = Float.BYTES * floats;
    for (QueryBlock blk : blocks) {
      bytes += blk.bytes();
    }
    return bytes;
  }
}
