package dev.flashattn4j.model;

/**
 * The rotary embedding's frequencies: transformers' {@code rope_parameters} (or the older {@code
 * rope_theta} and {@code rope_scaling}).
 *
 * @param theta the base θ: inv_freq_i = θ^(−2i/d)
 * @param type "default" or "llama3"
 * @param factor llama3: the factor low frequencies are divided by
 * @param lowFreqFactor llama3: wavelengths above original/lowFreqFactor are divided by factor
 * @param highFreqFactor llama3: wavelengths below original/highFreqFactor are kept
 * @param originalMaxPositions llama3: the context length of pre-training
 */
public record RopeScaling(
    double theta,
    String type,
    double factor,
    double lowFreqFactor,
    double highFreqFactor,
    int originalMaxPositions) {

  /** Plain RoPE with base θ. */
  public static RopeScaling plain(double theta) {
    return new RopeScaling(theta, "default", 1, 1, 1, 0);
  }

  /** True for Llama 3's frequency scaling. */
  public boolean isLlama3() {
    return type.equals("llama3");
  }

  /**
   * The inverse frequencies of a head of dimension d, as transformers computes them in float32:
   * inv_freq_i = 1 / θ^((2i)/d), then, for llama3, divided by factor where the wavelength
   * 2π/inv_freq is above original/lowFreqFactor and smoothly interpolated between
   * original/highFreqFactor and that.
   *
   * @return d/2 floats
   */
  public float[] inverseFrequencies(int headDim) {
    int half = headDim / 2;
    float[] inv = new float[half];
    float base = (float) theta;
    for (int i = 0; i < half; i++) {
      float exponent = (float) (2 * i) / headDim;
      inv[i] = 1f / (float) Math.pow(base, exponent);
    }
    if (!isLlama3()) {
      return inv;
    }
    // modeling_rope_utils._compute_llama3_parameters, in float32 as torch computes it (a Python
    // number divided by a tensor is the tensor's reciprocal times the number)
    float oldContext = originalMaxPositions;
    float lowWavelen = (float) (originalMaxPositions / lowFreqFactor);
    float highWavelen = (float) (originalMaxPositions / highFreqFactor);
    float f = (float) factor;
    float lowF = (float) lowFreqFactor;
    float highF = (float) highFreqFactor;
    for (int i = 0; i < half; i++) {
      float wavelen = (1f / inv[i]) * (float) (2 * Math.PI);
      float scaled = wavelen > lowWavelen ? inv[i] / f : inv[i];
      boolean medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
      if (medium) {
        float smooth = ((1f / wavelen) * oldContext - lowF) / (highF - lowF);
        scaled = (1 - smooth) * scaled / f + smooth * scaled;
      }
      inv[i] = scaled;
    }
    return inv;
  }
}
