/* smc: self-modifying code — writes instructions into an executable mapping, runs
   them, rewrites them, issues fence.i (__builtin___clear_cache), and runs them again. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

static void emit(uint32_t *code, int32_t k) {
  code[0] = 0x00000513u | ((uint32_t)(k & 0xfff) << 20); /* li a0, k  (addi a0, zero, k) */
  code[1] = 0x00008067u;                                  /* ret */
  __builtin___clear_cache((char *)code, (char *)(code + 2));
}

int main(void) {
  uint32_t *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  long (*fn)(void) = (long (*)(void))code;
  long total = 0;
  for (int k = 1; k <= 100; k++) {
    emit(code, k);
    total += fn();
  }
  printf("first %ld\n", total);
  emit(code, -7);
  printf("rewritten %ld\n", fn());
  /* Make it read-only and executable, then writable again. */
  mprotect(code, 4096, PROT_READ | PROT_EXEC);
  printf("after mprotect %ld\n", fn());
  mprotect(code, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
  emit(code, 1234 - 2048 * 0);
  printf("final %ld\n", fn());
  return 0;
}
