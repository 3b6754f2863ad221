package dev.flashattn4j.model;

/** How the model keeps its weight matrices in memory (norms and biases are always float32). */
public enum WeightFormat {
  /**
   * bfloat16 matrices stay bfloat16 (half the memory and bytes read); float32 and float16 are
   * float32.
   */
  AS_STORED,
  /** Every matrix widened to float32. */
  FLOAT32,
  /** Every matrix rounded to bfloat16 (round to nearest even), whatever the checkpoint stores. */
  BFLOAT16
}
