/* process-misc: the process-level calls glibc programs make — nanosleep and
   clock_nanosleep (relative and absolute) on the guest's clock, uname, getrandom,
   prlimit64/getrlimit/setrlimit, sched_getaffinity, set_robust_list, madvise
   (MADV_DONTNEED zero-fills private anonymous pages), mremap (grow in place, move,
   shrink), riscv_flush_icache around self-modifying code, and qsort (which asks
   sysinfo). With argv[1] = "amo", a misaligned atomic ends it with SIGBUS (135). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define CHECK(expr) do { long r_ = (long)(expr); printf("%-52s -> %ld%s%s\n", #expr, r_, r_ < 0 ? " " : "", r_ < 0 ? strerrorname_np(errno) : ""); } while (0)

static long long ns(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static void emit(uint32_t *code, int32_t k) {
  code[0] = 0x00000513u | ((uint32_t)(k & 0xfff) << 20); /* li a0, k */
  code[1] = 0x00008067u;                                  /* ret */
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "amo") == 0) {
    static uint64_t words[4];
    printf("about to run a misaligned amoadd.w\n");
    fflush(stdout);
    uint32_t *odd = (uint32_t *)((char *)words + 2);
    uint32_t old;
    __asm__ volatile("amoadd.w %0, %2, (%1)" : "=r"(old) : "r"(odd), "r"(1) : "memory");
    printf("not reached %u\n", old);
    return 0;
  }

  /* Sleeps: the clock moves on by at least the time asked. */
  long long t0 = ns(CLOCK_MONOTONIC);
  struct timespec req = { 0, 20000000 }, rem = { 9, 9 };
  CHECK(nanosleep(&req, &rem));
  long long t1 = ns(CLOCK_MONOTONIC);
  printf("slept at least 20 ms: %d\n", t1 - t0 >= 20000000);
  req.tv_nsec = 1000000000;
  CHECK(nanosleep(&req, NULL));
  req.tv_sec = -1; req.tv_nsec = 0;
  CHECK(nanosleep(&req, NULL));
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_nsec += 30000000;
  if (until.tv_nsec >= 1000000000) { until.tv_sec++; until.tv_nsec -= 1000000000; }
  CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL));
  long long t2 = ns(CLOCK_MONOTONIC);
  printf("absolute sleep reached its deadline: %d\n", t2 >= until.tv_sec * 1000000000LL + until.tv_nsec);
  req.tv_sec = 0; req.tv_nsec = 5000000;
  CHECK(clock_nanosleep(CLOCK_REALTIME, 0, &req, NULL));
  CHECK(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL));
  CHECK(usleep(1000));
  CHECK(sleep(0));

  struct utsname u;
  CHECK(uname(&u));
  printf("sysname %s machine %s\n", u.sysname, u.machine);

  unsigned char rnd[64];
  CHECK(getrandom(rnd, sizeof rnd, 0));
  CHECK(getrandom(rnd, 16, GRND_NONBLOCK));
  CHECK(getrandom(rnd, 16, 0x100));

  struct rlimit rl;
  CHECK(getrlimit(RLIMIT_NOFILE, &rl));
  rl.rlim_cur = 64;
  CHECK(setrlimit(RLIMIT_NOFILE, &rl));
  CHECK(getrlimit(RLIMIT_NOFILE, &rl));
  printf("NOFILE soft %lu\n", (unsigned long)rl.rlim_cur);
  struct rlimit bad = { 10, 5 };
  CHECK(setrlimit(RLIMIT_NOFILE, &bad));
  CHECK(prlimit(0, RLIMIT_NOFILE, NULL, &rl));
  CHECK(prlimit(getpid() + 4321, RLIMIT_NOFILE, NULL, &rl));
  CHECK(prlimit(0, 99, NULL, &rl));
  struct rlimit core = { 0, 0 };
  CHECK(setrlimit(RLIMIT_CORE, &core));
  CHECK(getrlimit(RLIMIT_CORE, &rl));
  printf("CORE %lu/%lu\n", (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max);

  cpu_set_t set;
  CPU_ZERO(&set);
  CHECK(sched_getaffinity(0, sizeof set, &set));
  printf("CPU 0 allowed: %d\n", CPU_ISSET(0, &set));
  CHECK(syscall(SYS_sched_getaffinity, 0, 3, &set));
  CHECK(syscall(SYS_sched_getaffinity, getpid() + 4321, sizeof set, &set));

  /* set_robust_list is not printed: qemu-riscv64 answers ENOSYS where Linux answers 0. */
  static long head[3];
  syscall(SYS_set_robust_list, head, 24);

  /* madvise(MADV_DONTNEED) on private anonymous memory zeroes it. */
  size_t pg = 4096;
  unsigned char *m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(m, 0xab, 4 * pg);
  CHECK(madvise(m + pg, 2 * pg, MADV_DONTNEED));
  printf("after DONTNEED: %02x %02x %02x %02x\n", m[0], m[pg], m[2 * pg + 100], m[3 * pg]);
  CHECK(madvise(m, pg, MADV_WILLNEED));
  CHECK(madvise(m + 1, pg, MADV_DONTNEED));
  printf("WILLNEED keeps the data: %02x\n", m[0]);

  /* mremap: grow (moving if it must), shrink, and refuse flags it lacks. */
  unsigned char *r = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (size_t i = 0; i < 2 * pg; i++) r[i] = (unsigned char)i;
  unsigned char *g = mremap(r, 2 * pg, 64 * pg, MREMAP_MAYMOVE);
  unsigned sum = 0;
  for (size_t i = 0; i < 2 * pg; i++) sum += g[i];
  printf("grown: kept %u, new part zero %d\n", sum, g[40 * pg] == 0);
  g[63 * pg] = 1;
  unsigned char *s = mremap(g, 64 * pg, pg, 0);
  printf("shrunk in place: %d\n", s == g);
  CHECK(mremap(s, pg, 2 * pg, 0x40) == MAP_FAILED);
  CHECK(munmap(s, pg));

  /* riscv_flush_icache around rewritten code. */
  uint32_t *code = mmap(NULL, pg, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  long (*fn)(void) = (long (*)(void))code;
  long total = 0;
  long flushes = 0;
  for (int k = 1; k <= 50; k++) {
    emit(code, k);
    flushes += syscall(259 /* riscv_flush_icache */, code, code + 2, 0) == 0;
    total += fn();
  }
  printf("flushed code total %ld, %ld flushes answered 0\n", total, flushes);

  /* A number no kernel knows. */
  CHECK(syscall(1000));

  /* qsort (glibc asks sysinfo how much memory there is). */
  int v[1000];
  unsigned x = 12345;
  for (int i = 0; i < 1000; i++) { x = x * 1103515245 + 12345; v[i] = (int)(x >> 8) % 100000; }
  qsort(v, 1000, sizeof v[0], cmp);
  int sorted = 1;
  for (int i = 1; i < 1000; i++) sorted &= v[i - 1] <= v[i];
  printf("qsort sorted %d min %d max %d\n", sorted, v[0], v[999]);
  return 0;
}
