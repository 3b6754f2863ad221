package dev.flashattn4j.kernel;

import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.values.AttentionMask;
import dev.flashattn4j.values.AttentionOptions;
import dev.flashattn4j.values.AttentionShape;

/**
 * The last shape a call object checked: when the next call has the same sizes and mask, its shape
 * is returned without a new check, so that a stream of calls with one shape allocates nothing.
 * Owned by one call object at a time (never shared between threads).
 */
final class ShapeCache {

  private AttentionShape shape;
  private AttentionMask mask;
  private float[] alibi;
  private float[] sinks;

  /** The checked shape of these inputs ({@link AttentionShape#of}), from the cache when it fits. */
  AttentionShape of(Tensor q, Tensor k, Tensor v, AttentionOptions options) {
    AttentionShape s = shape;
    if (s != null
        && options != null
        && options.mask() == mask
        && options.alibiSlopes() == alibi
        && options.sinks() == sinks
        && q != null
        && k != null
        && v != null
        && q.batch() == s.batch()
        && k.batch() == s.batch()
        && v.batch() == s.batch()
        && q.heads() == s.queryHeads()
        && k.heads() == s.kvHeads()
        && v.heads() == s.kvHeads()
        && q.rows() == s.queryRows()
        && k.rows() == s.keyRows()
        && v.rows() == s.keyRows()
        && q.cols() == s.headDim()
        && k.cols() == s.headDim()
        && v.cols() == s.valueDim()) {
      return s;
    }
    s = AttentionShape.of(q, k, v, options);
    shape = s;
    mask = options.mask();
    alibi = options.alibiSlopes();
    sinks = options.sinks();
    return s;
  }
}
