/* matmul-int: int64 matrix multiply of argv[1] × argv[1] matrices (multiplies, loads). */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 64;
  int64_t *a = malloc(sizeof(int64_t) * n * n), *b = malloc(sizeof(int64_t) * n * n), *c = calloc((size_t)n * n, sizeof(int64_t));
  for (int i = 0; i < n * n; i++) { a[i] = (i * 7 + 3) % 101 - 50; b[i] = (i * 13 + 5) % 97 - 48; }
  for (int i = 0; i < n; i++)
    for (int k = 0; k < n; k++) { int64_t aik = a[i * n + k]; for (int j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j]; }
  int64_t tr = 0; uint64_t h = 0;
  for (int i = 0; i < n; i++) tr += c[i * n + i];
  for (int i = 0; i < n * n; i++) h = h * 31 + (uint64_t)c[i];
  printf("matmul-int n=%d trace %lld hash %016llx\n", n, (long long)tr, (unsigned long long)h);
  return 0;
}
