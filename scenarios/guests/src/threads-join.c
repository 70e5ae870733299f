/* Threads: many threads created, each computing a result from its index and
   returning it; the main thread joins them in order (some have finished by then,
   some have not) and prints the results. Also pthread_exit from a thread and the
   thread ids being distinct. The threads get 256 KiB stacks (pthread_attr_setstacksize):
   forty default stacks of 8 MiB (RLIMIT_STACK) would not fit the suite's guest memory. */
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/syscall.h>

#define THREADS 40

static pid_t tids[THREADS];

static void *work(void *arg) {
  long id = (long)arg;
  tids[id] = (pid_t)syscall(SYS_gettid);
  uint64_t h = 1469598103934665603ULL;
  for (long i = 0; i < 500 * (id % 7 + 1); i++) h = (h ^ (uint64_t)(i + id)) * 1099511628211ULL;
  if (id % 5 == 0) pthread_exit((void *)(uintptr_t)(h & 0xffffff));
  return (void *)(uintptr_t)(h & 0xffffff);
}

int main(void) {
  pthread_t t[THREADS];
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  for (long i = 0; i < THREADS; i++)
    if (pthread_create(&t[i], &attr, work, (void *)i) != 0) { puts("pthread_create failed"); return 1; }
  pthread_attr_destroy(&attr);
  unsigned long total = 0;
  for (int i = 0; i < THREADS; i++) {
    void *r;
    int e = pthread_join(t[i], &r);
    printf("thread %2d: join %d result %06lx\n", i, e, (unsigned long)(uintptr_t)r);
    total += (uintptr_t)r;
  }
  pid_t self = (pid_t)syscall(SYS_gettid);
  int distinct = 1;
  for (int i = 0; i < THREADS; i++) {
    if (tids[i] == self || tids[i] <= 0) distinct = 0;
    for (int j = 0; j < i; j++) if (tids[i] == tids[j]) distinct = 0;
  }
  printf("total %lx, thread ids distinct: %s, pid is main tid: %s\n", total, distinct ? "yes" : "no", getpid() == self ? "yes" : "no");
  return 0;
}
