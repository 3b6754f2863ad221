package dev.flashattn4j.model;

/** How the model keeps its weight matrices in memory (norms and biases are always float32). */
public enum WeightFormat {
  /**
   * bfloat16 matrices stay bfloat16 (half the memory and bytes read); float32 and float16 are
   * float32; a GGUF file's Q8_0 and Q4_0 tensors are Q8_0.
   */
  AS_STORED,
  /** Every matrix widened to float32. */
  FLOAT32,
  /** Every matrix rounded to bfloat16 (round to nearest even), whatever the checkpoint stores. */
  BFLOAT16,
  /**
   * Every matrix, the embedding and the LM head included, quantised to GGML's Q8_0 (blocks of 32
   * int8 values with a float16 scale, {@link Q8Rows}): about 1.1 bytes a weight. A GGUF file's Q8_0
   * and Q4_0 tensors are kept as they are stored (Q4_0 widened to Q8_0 losslessly).
   */
  Q8_0
}
