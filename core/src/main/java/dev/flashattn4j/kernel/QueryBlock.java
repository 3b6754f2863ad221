package dev.flashattn4j.kernel;

/**
 * A block of B_r packed query rows and its panels, kept while an item runs the key sub-chunks of
 * the block's group.
 */
final class QueryBlock {
  float[] qt = new float[0]; // Qᵀ, scaled: [c·B_r + r]
  float[] qrm = new float[0]; // Q row-major, unscaled: [r·dPad + c]
  float[] dot = new float[0]; // dOᵀ: [c·B_r + r]
  float[] dorm = new float[0]; // dO row-major: [r·dvPad + c]
  float[] dqt = new float[0]; // dQᵀ of the block: [c·B_r + r]
  float[] lseRow = new float[0]; // the LSE of each row (+∞ for a row that saw no key)
  float[] dRow = new float[0]; // D = rowsum(dO ∘ O)
  int[] head = new int[0];
  int[] pos = new int[0];
  BlockInfo info = new BlockInfo(0);
  int rows;
  int rowsPad;
  int lo; // the keys it sees in the item's chunk: [lo, hi)
  int hi;
  int turn; // its turn among the chunks that add to its dQ
  boolean loaded; // false: it sees no key of the chunk, and the chunk is not the first

  void ensure(int br, int dPad, int dvPad) {
    qt = BackwardBuffers.grow(qt, dPad * br);
    qrm = BackwardBuffers.grow(qrm, br * dPad);
    dot = BackwardBuffers.grow(dot, dvPad * br);
    dorm = BackwardBuffers.grow(dorm, br * dvPad);
    dqt = BackwardBuffers.grow(dqt, dPad * br);
    if (lseRow.length < br) {
      lseRow = new float[br];
      dRow = new float[br];
      head = new int[br];
      pos = new int[br];
      info = new BlockInfo(br);
    }
  }

  long bytes() {
    long floats =
        (long) qt.length + qrm.length + dot.length + dorm.length + dqt.length + 2L * lseRow.length;
    return Float.BYTES * floats + Integer.BYTES * 4L * head.length;
  }
}
