/* matmul-double: double-precision matrix multiply of argv[1] × argv[1] matrices
   (fused multiply-adds: GCC contracts a*b+c into fmadd.d). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 64;
  double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n), *c = calloc((size_t)n * n, sizeof(double));
  for (int i = 0; i < n * n; i++) { a[i] = ((i * 7 + 3) % 101) / 17.0 - 2.5; b[i] = ((i * 13 + 5) % 97) / 19.0 - 2.0; }
  for (int i = 0; i < n; i++)
    for (int k = 0; k < n; k++) { double aik = a[i * n + k]; for (int j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j]; }
  double tr = 0, s = 0;
  for (int i = 0; i < n; i++) tr += c[i * n + i];
  for (int i = 0; i < n * n; i++) s += c[i] * (1 + (i % 3));
  printf("matmul-double n=%d trace %.17g sum %.17g\n", n, tr, s);
  return 0;
}
