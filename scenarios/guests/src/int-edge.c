/* int-edge: integer and M-extension edge cases — division by zero, signed overflow,
   32-bit W operations and their sign extension, high multiplies, large shifts. */
#include <stdio.h>
#include <stdint.h>

#define OP(name, insn) static int64_t name(int64_t a, int64_t b) { int64_t r; __asm__ volatile(insn " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); return r; }
OP(div_, "div") OP(divu_, "divu") OP(rem_, "rem") OP(remu_, "remu")
OP(divw_, "divw") OP(divuw_, "divuw") OP(remw_, "remw") OP(remuw_, "remuw")
OP(mul_, "mul") OP(mulh_, "mulh") OP(mulhu_, "mulhu") OP(mulhsu_, "mulhsu") OP(mulw_, "mulw")
OP(addw_, "addw") OP(subw_, "subw") OP(sllw_, "sllw") OP(srlw_, "srlw") OP(sraw_, "sraw")
OP(sll_, "sll") OP(srl_, "srl") OP(sra_, "sra") OP(slt_, "slt") OP(sltu_, "sltu")

static const int64_t vals[] = { 0, 1, -1, 2, -2, 7, -7, 0x7fffffff, -0x80000000LL, 0xffffffffLL,
  0x7fffffffffffffffLL, (int64_t)0x8000000000000000ULL, 0x123456789abcdefLL, -0x123456789abcdefLL, 63, 64, 31, 32 };
#define N (sizeof vals / sizeof vals[0])

int main(void) {
  static int64_t (*const ops[])(int64_t, int64_t) = { div_, divu_, rem_, remu_, divw_, divuw_, remw_, remuw_, mul_, mulh_, mulhu_, mulhsu_, mulw_,
    addw_, subw_, sllw_, srlw_, sraw_, sll_, srl_, sra_, slt_, sltu_ };
  static const char *names[] = { "div", "divu", "rem", "remu", "divw", "divuw", "remw", "remuw", "mul", "mulh", "mulhu", "mulhsu", "mulw",
    "addw", "subw", "sllw", "srlw", "sraw", "sll", "srl", "sra", "slt", "sltu" };
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned o = 0; o < sizeof ops / sizeof ops[0]; o++) {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned i = 0; i < N; i++)
      for (unsigned j = 0; j < N; j++) {
        uint64_t r = (uint64_t)ops[o](vals[i], vals[j]);
        h = (h ^ r) * 1099511628211ULL;
      }
    printf("%-7s %016llx\n", names[o], (unsigned long long)h);
    hash = (hash ^ h) * 1099511628211ULL;
  }
  printf("div by zero: %lld %lld %lld %lld\n", (long long)div_(5, 0), (long long)rem_(5, 0), (long long)divu_(5, 0), (long long)remu_(5, 0));
  printf("overflow: %llx %lld\n", (unsigned long long)div_(INT64_MIN, -1), (long long)rem_(INT64_MIN, -1));
  printf("divw overflow: %lld %lld\n", (long long)divw_(-0x80000000LL, -1), (long long)remw_(-0x80000000LL, -1));
  printf("all %016llx\n", (unsigned long long)hash);
  return 0;
}
