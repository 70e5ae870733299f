/* memory: heap and mappings — brk growth through sbrk and malloc, many allocation
   sizes, large allocations served by mmap, mmap/munmap/mprotect/mremap of anonymous
   memory, and realloc growth. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/mman.h>

int main(void) {
  void *b0 = sbrk(0);
  void *b1 = sbrk(1 << 20);
  void *b2 = sbrk(0);
  printf("sbrk grew by %ld\n", (long)((char *)b2 - (char *)b0));
  memset(b1, 0xab, 1 << 20);
  uint64_t h = 0;
  void *ptrs[500];
  for (int i = 0; i < 500; i++) {
    size_t sz = (size_t)(i * 37 % 4000) + 1;
    ptrs[i] = malloc(sz);
    memset(ptrs[i], i, sz);
  }
  for (int i = 0; i < 500; i += 2) free(ptrs[i]);
  for (int i = 1; i < 500; i += 2) h = h * 31 + ((unsigned char *)ptrs[i])[0];
  char *big = malloc(64 << 20);
  for (size_t i = 0; i < (64u << 20); i += 4096) big[i] = (char)i;
  printf("big ok %d %llx\n", big[4096 * 7], (unsigned long long)h);
  free(big);
  char *m = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  printf("mmap zeroed %d\n", m[100]);
  strcpy(m, "mapped");
  char *m2 = mremap(m, 1 << 16, 1 << 20, MREMAP_MAYMOVE);
  printf("mremap kept data: %s\n", m2);
  m2[(1 << 20) - 1] = 1;
  printf("mprotect ro: %d\n", mprotect(m2, 4096, PROT_READ));
  printf("still reads: %s\n", m2);
  printf("munmap: %d\n", munmap(m2, 1 << 20));
  char *r = NULL;
  for (int i = 1; i <= 20; i++) { r = realloc(r, (size_t)i * 10000); r[i * 10000 - 1] = (char)i; }
  printf("realloc end %d\n", r[199999]);
  return 0;
}
