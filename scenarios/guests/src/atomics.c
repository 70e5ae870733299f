/* atomics: LR/SC loops and every AMO, 32- and 64-bit, through C11 atomics and inline assembly. */
#include <stdio.h>
#include <stdint.h>
#include <stdatomic.h>

static int64_t amo64(const char *which, int64_t *p, int64_t v) {
  int64_t old = 0;
#define A(n) if (!__builtin_strcmp(which, #n)) __asm__ volatile(#n ".d %0, %2, (%1)" : "=r"(old) : "r"(p), "r"(v) : "memory");
  A(amoswap) A(amoadd) A(amoxor) A(amoand) A(amoor) A(amomin) A(amomax) A(amominu) A(amomaxu)
#undef A
  return old;
}
static int32_t amo32(const char *which, int32_t *p, int32_t v) {
  int32_t old = 0;
#define A(n) if (!__builtin_strcmp(which, #n)) __asm__ volatile(#n ".w %0, %2, (%1)" : "=r"(old) : "r"(p), "r"(v) : "memory");
  A(amoswap) A(amoadd) A(amoxor) A(amoand) A(amoor) A(amomin) A(amomax) A(amominu) A(amomaxu)
#undef A
  return old;
}

int main(void) {
  const char *ops[] = { "amoswap", "amoadd", "amoxor", "amoand", "amoor", "amomin", "amomax", "amominu", "amomaxu" };
  int64_t vals[] = { 5, -3, 0x7fffffffffffffffLL, (int64_t)0x8000000000000000ULL, 0x0f0f0f0f0f0f0f0fLL };
  for (int o = 0; o < 9; o++) {
    int64_t m = 0x1234567890abcdefLL;
    int32_t w = -12345;
    for (int i = 0; i < 5; i++) {
      int64_t old = amo64(ops[o], &m, vals[i]);
      int32_t oldw = amo32(ops[o], &w, (int32_t)vals[i]);
      printf("%-8s %016llx -> %016llx | %08x -> %08x\n", ops[o], (unsigned long long)old, (unsigned long long)m, (unsigned)oldw, (unsigned)w);
    }
  }
  /* LR/SC: an increment loop. */
  int64_t counter = 0;
  for (int i = 0; i < 1000; i++) {
    int64_t tmp, fail;
    __asm__ volatile("1: lr.d %0, (%2)\n addi %0, %0, 3\n sc.d %1, %0, (%2)\n bnez %1, 1b" : "=&r"(tmp), "=&r"(fail) : "r"(&counter) : "memory");
  }
  int32_t c32 = 0;
  for (int i = 0; i < 1000; i++) {
    int32_t tmp, fail;
    __asm__ volatile("1: lr.w %0, (%2)\n addi %0, %0, -1\n sc.w %1, %0, (%2)\n bnez %1, 1b" : "=&r"(tmp), "=&r"(fail) : "r"(&c32) : "memory");
  }
  /* sc without a reservation fails. */
  int64_t x = 7, r;
  __asm__ volatile("sc.d %0, %2, (%1)" : "=r"(r) : "r"(&x), "r"(9L) : "memory");
  printf("lr/sc %lld %d; sc without reservation -> %lld, value %lld\n", (long long)counter, c32, (long long)r, (long long)x);
  _Atomic long a = 10;
  atomic_fetch_add(&a, 5);
  long expected = 15;
  int ok = atomic_compare_exchange_strong(&a, &expected, 100);
  printf("c11 %ld %d\n", (long)atomic_load(&a), ok);
  return 0;
}
