/* signals: real delivery of signals a process sends itself — handlers installed by
   sigaction run on the guest stack and return through rt_sigreturn with every
   register (integer and FP) and the mask restored; SA_SIGINFO's siginfo and
   ucontext; blocked signals stay pending until unblocked; SIG_IGN, SA_RESETHAND,
   SA_NODEFER; kill/tgkill argument errors. Then, by argv[1]: "abort" ends with
   SIGABRT (status 134) while stdout still holds unflushed text, which must be lost;
   "term" ends by the default action of SIGTERM (143); "usr1" by SIGUSR1's (138). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static volatile int hits[65];
static volatile int last_code, last_pid, saw_mask, depth, max_depth;
static volatile double fp_in_handler;

static void count(int sig) { hits[sig]++; }

static void info(int sig, siginfo_t *si, void *ctx) {
  ucontext_t *uc = ctx;
  hits[sig]++;
  last_code = si->si_code;
  last_pid = si->si_pid == getpid();
  /* While a handler runs its own signal is blocked (no SA_NODEFER). */
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  saw_mask = sigismember(&now, sig) * 10 + sigismember(&uc->uc_sigmask, sig);
  fp_in_handler = 1.0;
  for (int i = 0; i < 10; i++) fp_in_handler *= 3.5; /* clobbers FP registers */
  volatile double third = 1.0;
  third /= 3.0; /* raises NX in the handler's fflags */
  /* Clobbers the caller-saved registers the interrupted code keeps live. */
  __asm__ volatile("li t0, 0\n li a5, 0\n fcvt.d.l ft0, zero\n fcvt.d.l fa7, zero\n" ::: "t0", "a5", "ft0", "fa7");
}

/* Sends SIGUSR2 by a raw ecall with caller-saved integer and FP registers live and
   fflags clear: rt_sigreturn must bring all of them back. */
static void raw_tgkill_keeps_registers(void) {
  long t0v, a5v, pid = getpid();
  double ft0v, fa7v;
  unsigned long fl;
  __asm__ volatile(
      "li t0, 0x1234567\n"
      "li a5, -77\n"
      "fcvt.d.l ft0, t0\n"
      "fcvt.d.l fa7, a5\n"
      "fsflags zero\n"
      "mv a0, %[pid]\n"
      "mv a1, %[pid]\n"
      "li a2, 12\n"
      "li a7, 131\n"
      "ecall\n"
      "mv %[t0v], t0\n"
      "mv %[a5v], a5\n"
      "fmv.d %[ft0v], ft0\n"
      "fmv.d %[fa7v], fa7\n"
      "frflags %[fl]\n"
      : [t0v] "=&r"(t0v), [a5v] "=&r"(a5v), [ft0v] "=&f"(ft0v), [fa7v] "=&f"(fa7v), [fl] "=&r"(fl)
      : [pid] "r"(pid)
      : "t0", "a0", "a1", "a2", "a5", "a7", "ft0", "fa7", "memory");
  printf("after a raw tgkill: t0 %lx a5 %ld ft0 %.1f fa7 %.1f fflags %lu\n", t0v, a5v, ft0v, fa7v, fl);
}

static volatile int entries;

static void nested(int sig) {
  depth++;
  if (depth > max_depth) max_depth = depth;
  if (++entries < 3) raise(sig);
  depth--;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "abort";
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = count;
  sigemptyset(&sa.sa_mask);
  printf("sigaction USR1 %d\n", sigaction(SIGUSR1, &sa, &old));
  printf("old handler was default: %d\n", old.sa_handler == SIG_DFL);
  printf("raise %d\n", raise(SIGUSR1));
  printf("USR1 hits %d\n", hits[SIGUSR1]);
  printf("kill self %d\n", kill(getpid(), SIGUSR1));
  printf("USR1 hits %d\n", hits[SIGUSR1]);
  errno = 0;
  printf("kill sig 0: %d errno %d\n", kill(getpid(), 0), errno);
  printf("kill bad sig: %d %s\n", kill(getpid(), 999), strerrorname_np(errno));
  printf("kill other pid: %d %s\n", kill(getpid() + 12345, SIGUSR1), strerrorname_np(errno));
  printf("tgkill bad tid: %ld %s\n", syscall(SYS_tgkill, getpid(), -5, SIGUSR1), strerrorname_np(errno));
  printf("sigaction SIGKILL: %d %s\n", sigaction(SIGKILL, &sa, NULL), strerrorname_np(errno));
  printf("sigaction 0: %d %s\n", sigaction(0, &sa, NULL), strerrorname_np(errno));

  /* SA_SIGINFO, and registers restored: a live double across the handler. */
  sa.sa_sigaction = info;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR2, &sa, NULL);
  volatile double keep = 2.25;
  double acc = keep * 3.0;
  long spin = 0;
  for (int i = 0; i < 3; i++) { raise(SIGUSR2); spin += i * acc; }
  printf("USR2 hits %d code %d (SI_TKILL %d) pid-ok %d mask %d acc %.3f spin %ld handler-fp %.1f\n", hits[SIGUSR2], last_code, SI_TKILL, last_pid, saw_mask, acc, spin, fp_in_handler);
  raw_tgkill_keeps_registers();
  printf("USR2 hits %d\n", hits[SIGUSR2]);
  sigqueue(getpid(), SIGUSR2, (union sigval){ .sival_int = 7 });
  printf("sigqueue: hits %d code %d (SI_QUEUE %d)\n", hits[SIGUSR2], last_code, SI_QUEUE);

  /* Blocking: pending until unblocked, delivered once. */
  sigset_t set, prev;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, &prev);
  raise(SIGUSR1);
  raise(SIGUSR1);
  printf("blocked: hits %d\n", hits[SIGUSR1]);
  sigset_t pend;
  sigpending(&pend);
  printf("pending USR1 %d USR2 %d\n", sigismember(&pend, SIGUSR1), sigismember(&pend, SIGUSR2));
  sigprocmask(SIG_SETMASK, &prev, NULL);
  printf("unblocked: hits %d\n", hits[SIGUSR1]);
  printf("bad how: %d %s\n", sigprocmask(99, &set, NULL), strerrorname_np(errno));
  sigfillset(&set);
  sigprocmask(SIG_SETMASK, &set, NULL);
  sigprocmask(SIG_SETMASK, NULL, &set);
  printf("KILL blockable %d STOP %d TERM %d\n", sigismember(&set, SIGKILL), sigismember(&set, SIGSTOP), sigismember(&set, SIGTERM));
  sigemptyset(&set);
  sigprocmask(SIG_SETMASK, &set, NULL);

  /* Ignored and default-ignored signals. */
  signal(SIGUSR1, SIG_IGN);
  raise(SIGUSR1);
  printf("ignored USR1: hits %d\n", hits[SIGUSR1]);
  raise(SIGCHLD);
  raise(SIGWINCH);
  printf("SIGCHLD and SIGWINCH ignored by default\n");

  /* SA_RESETHAND: once, then the default (which for SIGURG is to ignore). */
  sa.sa_handler = count;
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGURG, &sa, NULL);
  raise(SIGURG);
  raise(SIGURG);
  sigaction(SIGURG, NULL, &old);
  printf("URG hits %d, now default %d\n", hits[SIGURG], old.sa_handler == SIG_DFL);

  /* SA_NODEFER: the handler may be re-entered. */
  sa.sa_handler = nested;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGALRM, &sa, NULL);
  raise(SIGALRM);
  printf("nested depth %d\n", max_depth);
  max_depth = 0;
  entries = 0;
  sa.sa_flags = 0;
  sigaction(SIGALRM, &sa, NULL);
  raise(SIGALRM);
  printf("deferred depth %d entries %d\n", max_depth, entries);

  fflush(stdout);
  if (strcmp(mode, "abort") == 0) {
    printf("this line stays in the stdio buffer and is lost\n");
    abort();
  }
  if (strcmp(mode, "term") == 0) {
    printf("lost too\n");
    kill(getpid(), SIGTERM);
  }
  if (strcmp(mode, "usr1") == 0) {
    signal(SIGUSR1, SIG_DFL);
    syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
  }
  printf("not reached\n");
  return 0;
}
