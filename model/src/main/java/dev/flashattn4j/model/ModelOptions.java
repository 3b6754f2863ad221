package dev.flashattn4j.model;

import dev.flashattn4j.cache.KvStorage;

/**
 * How a {@link Model} runs.
 *
 * @param threads threads of the matrix products and of attention, counting the caller (at least 1;
 *     capped at the cores by the attention engine)
 * @param weights how the weight matrices are kept
 * @param kvStorage how the KV cache stores K and V
 * @param pageSize tokens per page of the KV cache
 */
public record ModelOptions(int threads, WeightFormat weights, KvStorage kvStorage, int pageSize) {

  public ModelOptions {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, not " + threads);
    }
    if (weights == null || kvStorage == null) {
      throw new IllegalArgumentException("weights and kvStorage must not be null");
    }
    if (pageSize < 1) {
      throw new IllegalArgumentException("pageSize must be at least 1, not " + pageSize);
    }
  }

  /** All cores, weights as stored, a float32 cache of 16-token pages. */
  public static ModelOptions defaults() {
    return new ModelOptions(
        Runtime.getRuntime().availableProcessors(), WeightFormat.AS_STORED, KvStorage.FLOAT32, 16);
  }

  public ModelOptions withThreads(int threads) {
    return new ModelOptions(threads, weights, kvStorage, pageSize);
  }

  public ModelOptions withWeights(WeightFormat weights) {
    return new ModelOptions(threads, weights, kvStorage, pageSize);
  }

  public ModelOptions withKvStorage(KvStorage kvStorage) {
    return new ModelOptions(threads, weights, kvStorage, pageSize);
  }

  public ModelOptions withPageSize(int pageSize) {
    return new ModelOptions(threads, weights, kvStorage, pageSize);
  }
}
