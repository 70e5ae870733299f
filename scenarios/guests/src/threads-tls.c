/* Threads: thread-local storage. __thread variables with and without an
   initializer, a TLS array and errno are private to each thread; each thread
   changes its own copies and reports what it saw, printed in thread order. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define THREADS 6

static __thread int initialized = 7;
static __thread long zeroed;
static __thread char name[32] = "main";
static char report[THREADS][160];

static void *work(void *arg) {
  long id = (long)arg;
  int start = initialized;
  long startZero = zeroed;
  char startName[32];
  strcpy(startName, name);
  snprintf(name, sizeof name, "worker-%ld", id);
  for (int i = 0; i < 1000 * (int)(id + 1); i++) {
    initialized += (int)id;
    zeroed += i;
    if (i % 100 == 0) sched_yield();
  }
  /* errno is thread-local too: a failing call here does not touch main's errno. */
  close(-1);
  int err = errno;
  snprintf(report[id], sizeof report[id], "thread %ld: started with %d/%ld/%s, ended with %d/%ld/%s, errno %d", id, start, startZero, startName, initialized, zeroed, name, err);
  return NULL;
}

int main(void) {
  pthread_t t[THREADS];
  errno = 0;
  initialized = 100;
  for (long i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, work, (void *)i);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < THREADS; i++) puts(report[i]);
  printf("main: %d/%ld/%s, errno %d\n", initialized, zeroed, name, errno);
  return 0;
}
