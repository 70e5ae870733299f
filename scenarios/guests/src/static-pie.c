/* static-pie: a freestanding static position-independent executable (no libc), for
   the loader's ET_DYN path: it reads its argument count and an argument, computes a
   checksum of a table reached PC-relatively, and writes the result with raw system
   calls. (Debian's cross glibc ships no rcrt1.o, so a glibc static-PIE cannot be
   linked here; this covers the same loader path.) */
typedef unsigned long u64;

static long sys3(long n, long a, long b, long c) {
  register long a0 __asm__("a0") = a, a1 __asm__("a1") = b, a2 __asm__("a2") = c, a7 __asm__("a7") = n;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
  return a0;
}

static const unsigned char table[] = "position-independent code reaches its data relative to pc";

static void put(const char *s, long n) { sys3(64, 1, (long)s, n); }

static long hex(char *out, u64 v) {
  for (int i = 15; i >= 0; i--) { int d = v & 15; out[i] = (char)(d < 10 ? '0' + d : 'a' + d - 10); v >>= 4; }
  return 16;
}

void __attribute__((noreturn)) cstart(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  u64 h = 1469598103934665603UL;
  for (unsigned i = 0; i < sizeof table - 1; i++) h = (h ^ table[i]) * 1099511628211UL;
  if (argc > 1) for (char *p = argv[1]; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211UL;
  static const char prefix[] = "static-pie checksum ";
  char buf[64];
  long n = 0;
  while (prefix[n]) { buf[n] = prefix[n]; n++; }
  n += hex(buf + n, h);
  buf[n++] = '\n';
  put(buf, n);
  sys3(93, (int)(argc + 40), 0, 0);
  for (;;) {}
}

__asm__(".globl _start\n_start:\n mv a0, sp\n call cstart\n");
