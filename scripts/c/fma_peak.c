/* The FMA peak of one core, independently of the JVM: 12 independent chains of 256-bit FMAs
 * (c = a*b + c, the accumulator as the addend), the best of 100 runs. Compare with the
 * "FMA peak" line of ./flashattn bench (kernel/FmaPeak, the same loop in the Vector API).
 * Build: gcc -O2 -mavx2 -mfma fma_peak.c -o fma_peak   (x86 with AVX2 and FMA) */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

#define F(x) x = _mm256_fmadd_ps(a, b, x);

int main(int argc, char **argv) {
  (void) argv;
  __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  __m256 c0 = _mm256_set1_ps(1), c1 = _mm256_set1_ps(2), c2 = _mm256_set1_ps(3),
         c3 = _mm256_set1_ps(4), c4 = _mm256_set1_ps(5), c5 = _mm256_set1_ps(6),
         c6 = _mm256_set1_ps(7), c7 = _mm256_set1_ps(8), c8 = _mm256_set1_ps(9),
         c9 = _mm256_set1_ps(10), c10 = _mm256_set1_ps(11), c11 = _mm256_set1_ps(12);
  double best = 0;
  for (int rep = 0; rep < 100; rep++) {
    long n = 1000000 + argc;
    double t0 = now();
    for (long i = 0; i < n; i++) {
      F(c0) F(c1) F(c2) F(c3) F(c4) F(c5) F(c6) F(c7) F(c8) F(c9) F(c10) F(c11)
    }
    double g = 2.0 * 8 * 12 * n / (now() - t0) / 1e9;
    if (g > best) best = g;
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                           _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
  s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
  float o[8];
  _mm256_storeu_ps(o, s);
  printf("C FMA loop (256-bit, 12 chains), 1 thread: %.1f GFLOP/s (checksum %g)\n", best, o[0]);
  return 0;
}
