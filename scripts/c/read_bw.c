/* The memory read bandwidth, independently of the JVM: OpenMP threads stream-sum their slices of
 * a 1 GiB float array with 256-bit adds (4 accumulators), the best of 7 passes. Compare with the
 * "read bandwidth" line of ./flashattn bench-decode (kernel/decode/ReadBandwidth).
 * Build: gcc -O2 -mavx2 -fopenmp read_bw.c -o read_bw; run: OMP_NUM_THREADS=2 ./read_bw */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
  long n = 1L << 28;
  float *a = aligned_alloc(64, n * 4);
#pragma omp parallel for
  for (long i = 0; i < n; i++) a[i] = 1.0f;
  double best = 0, sink = 0;
  for (int rep = 0; rep < 7; rep++) {
    double t0 = now();
    float total = 0;
#pragma omp parallel reduction(+ : total)
    {
      __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
#pragma omp for
      for (long i = 0; i < n; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_load_ps(a + i));
        s1 = _mm256_add_ps(s1, _mm256_load_ps(a + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_load_ps(a + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_load_ps(a + i + 24));
      }
      float o[8];
      _mm256_storeu_ps(o, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
      for (int k = 0; k < 8; k++) total += o[k];
    }
    double g = n * 4.0 / (now() - t0) / 1e9;
    sink += total;
    if (g > best) best = g;
  }
  printf("C streaming read, %d thread(s): %.1f GB/s (checksum %g)\n", omp_get_max_threads(), best,
         sink);
  free(a);
  return 0;
}
