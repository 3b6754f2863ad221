package dev.flashattn4j.model;

/** The gate activation of the gated MLP: act(x·W_gate) ⊙ (x·W_up). */
public enum Activation {
  /** SiLU (swish): x·σ(x); SwiGLU. transformers' {@code silu}. */
  SILU("silu"),
  /** GELU with the tanh approximation; GeGLU. transformers' {@code gelu_pytorch_tanh}. */
  GELU_TANH("gelu_pytorch_tanh");

  private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

  private final String hfName;

  Activation(String hfName) {
    this.hfName = hfName;
  }

  /** The name config.json uses. */
  public String hfName() {
    return hfName;
  }

  static Activation of(String name) {
    for (Activation a : values()) {
      if (a.hfName.equals(name)) {
        return a;
      }
    }
    if (name.equals("swish")) {
      return SILU;
    }
    if (name.equals("gelu_new") || name.equals("gelu_fast")) {
      return GELU_TANH;
    }
    return null;
  }

  /** act(x), computed in double and rounded once. */
  float apply(float x) {
    double v = x;
    return switch (this) {
      case SILU -> (float) (v / (1 + Math.exp(-v)));
      case GELU_TANH ->
          (float) (0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v))));
    };
  }
}
