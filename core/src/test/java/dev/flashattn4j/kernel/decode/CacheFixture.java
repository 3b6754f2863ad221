package dev.flashattn4j.kernel.decode;

import dev.flashattn4j.cache.KvStorage;
import dev.flashattn4j.cache.PagedKvCache;
import dev.flashattn4j.tensor.Tensor;
import dev.flashattn4j.testing.TestTensors;
import dev.flashattn4j.values.AttentionResult;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A one-layer cache together with a plain copy of every sequence's keys and values (as the cache
 * stores them: rounded to float16 for FLOAT16 storage), so that tests can run the oracle on the
 * whole sequence.
 */
final class CacheFixture {

  final PagedKvCache cache;
  final SplittableRandom random;
  private final Map<Integer, List<float[]>> keys = new HashMap<>();
  private final Map<Integer, List<float[]>> values = new HashMap<>();

  CacheFixture(int kvHeads, int d, int dv, int pageSize, int pages, KvStorage storage, long seed) {
    cache = new PagedKvCache(1, kvHeads, d, dv, pageSize, pages, storage);
    random = new SplittableRandom(seed);
  }

  int newSequence() {
    int id = cache.newSequence();
    keys.put(id, new ArrayList<>());
    values.put(id, new ArrayList<>());
    return id;
  }

  int fork(int id) {
    int f = cache.fork(id);
    keys.put(f, new ArrayList<>(keys.get(id)));
    values.put(f, new ArrayList<>(values.get(id)));
    return f;
  }

  void free(int id) {
    cache.free(id);
    keys.remove(id);
    values.remove(id);
  }

  /** Appends n random tokens (uniform in [-1, 1), times {@code spread} for the keys). */
  void append(int id, int n, float spread) {
    int h = cache.kvHeads();
    Tensor k = TestTensors.uniform(random, h, n, cache.headDim());
    Tensor v = TestTensors.uniform(random, h, n, cache.valueDim());
    for (int i = 0; i < k.data().length; i++) {
      k.data()[i] *= spread;
    }
    cache.append(id, k, v);
    record(keys.get(id), k);
    record(values.get(id), v);
  }

  private void record(List<float[]> list, Tensor t) {
    for (int n = 0; n < t.rows(); n++) {
      float[] row = new float[t.heads() * t.cols()];
      for (int h = 0; h < t.heads(); h++) {
        for (int c = 0; c < t.cols(); c++) {
          row[h * t.cols() + c] = t.get(0, h, n, c);
        }
        // as stored: a 16-bit element alone, an int8 row with its scale
        cache.storage().roundRow(row, h * t.cols(), t.cols());
      }
      list.add(row);
    }
  }

  /** K of a whole sequence, (1, H_kv, L, d). */
  Tensor keys(int id) {
    return tensor(keys.get(id), cache.headDim());
  }

  /** V of a whole sequence, (1, H_kv, L, d_v). */
  Tensor values(int id) {
    return tensor(values.get(id), cache.valueDim());
  }

  private Tensor tensor(List<float[]> rows, int cols) {
    int h = cache.kvHeads();
    Tensor t = Tensor.zeros(1, h, rows.size(), cols);
    for (int n = 0; n < rows.size(); n++) {
      for (int x = 0; x < h; x++) {
        System.arraycopy(rows.get(n), x * cols, t.data(), t.rowOffset(0, x, n), cols);
      }
    }
    return t;
  }

  /** Batch entry b of a result, (1, H_q, N_q, d_v). */
  static AttentionResult slice(AttentionResult r, int b) {
    Tensor o = r.output();
    int per = o.heads() * o.rows();
    Tensor view =
        Tensor.view(
            o.data(),
            o.rowOffset(b, 0, 0),
            new int[] {1, o.heads(), o.rows(), o.cols()},
            new int[] {o.batchStride(), o.headStride(), o.rowStride()});
    float[] lse = java.util.Arrays.copyOfRange(r.lse(), b * per, (b + 1) * per);
    return new AttentionResult(view.copy(), lse);
  }

  /** Query b of a batch, (1, H_q, N_q, d). */
  static Tensor batchEntry(Tensor q, int b) {
    return Tensor.view(
        q.data(),
        q.rowOffset(b, 0, 0),
        new int[] {1, q.heads(), q.rows(), q.cols()},
        new int[] {q.batchStride(), q.headStride(), q.rowStride()});
  }
}
