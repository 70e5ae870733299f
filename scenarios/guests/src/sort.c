/* sort: quicksort and mergesort of argv[1] pseudo-random 64-bit keys from a fixed
   LCG seed, checked and summarized (branches, loads, stores, recursion). */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void quick(int64_t *a, long lo, long hi) {
  while (lo < hi) {
    int64_t p = a[(lo + hi) / 2]; long i = lo, j = hi;
    while (i <= j) { while (a[i] < p) i++; while (a[j] > p) j--; if (i <= j) { int64_t t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; } }
    if (j - lo < hi - i) { quick(a, lo, j); lo = i; } else { quick(a, i, hi); hi = j; }
  }
}
static void merge(int64_t *a, int64_t *tmp, long n) {
  if (n < 2) return;
  long m = n / 2; merge(a, tmp, m); merge(a + m, tmp, n - m);
  long i = 0, j = m, k = 0;
  while (i < m && j < n) tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
  while (i < m) tmp[k++] = a[i++];
  while (j < n) tmp[k++] = a[j++];
  memcpy(a, tmp, n * sizeof *a);
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 10000;
  int64_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *tmp = malloc(n * sizeof *tmp);
  uint64_t x = 88172645463325252ULL;
  for (long i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; a[i] = b[i] = (int64_t)(x % 1000000007ULL) - 500000000; }
  quick(a, 0, n - 1);
  merge(b, tmp, n);
  uint64_t h = 0; int ok = 1;
  for (long i = 0; i < n; i++) { if (a[i] != b[i] || (i && a[i - 1] > a[i])) ok = 0; h = h * 1000003 + (uint64_t)a[i]; }
  printf("sorted %ld ok=%d min %lld max %lld hash %016llx\n", n, ok, (long long)a[0], (long long)a[n - 1], (unsigned long long)h);
  return 0;
}
