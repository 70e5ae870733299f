/* Threads: a thread other than the first calls abort(). glibc's abort() raises SIGABRT
   with tgkill(getpid(), gettid()), naming the calling thread, so the signal must reach
   the process from any of its threads: the guest ends with SIGABRT (status 134), and
   output still in stdio's buffer is lost. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void *worker(void *arg) {
  (void)arg;
  printf("worker: about to abort\n");
  fflush(stdout);
  printf("worker: this line stays in the buffer\n");
  abort();
  return NULL;
}

int main(void) {
  printf("main: starting a worker\n");
  fflush(stdout);
  pthread_t t;
  if (pthread_create(&t, NULL, worker, NULL) != 0) return 1;
  pthread_join(t, NULL);
  printf("main: not reached\n");
  return 0;
}
