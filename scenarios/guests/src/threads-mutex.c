/* Threads: a counter shared by several threads under a pthread mutex. Each thread
   adds to it many times; the mutex (futex wait and wake under contention) keeps
   every increment. The output does not depend on how the threads are scheduled. */
#include <pthread.h>
#include <stdio.h>

#define THREADS 4
#define ROUNDS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static long perThread[THREADS];

static void *work(void *arg) {
  long id = (long)arg;
  for (int i = 0; i < ROUNDS; i++) {
    pthread_mutex_lock(&lock);
    long v = counter;
    /* A little work inside the critical section, so preemption often lands here. */
    for (int k = 0; k < 8; k++) v += (k == 7);
    counter = v;
    pthread_mutex_unlock(&lock);
    perThread[id]++;
  }
  return NULL;
}

int main(void) {
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++)
    if (pthread_create(&t[i], NULL, work, (void *)i) != 0) { puts("pthread_create failed"); return 1; }
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < THREADS; i++) printf("thread %d: %ld increments\n", i, perThread[i]);
  printf("counter: %ld (expected %d)\n", counter, THREADS * ROUNDS);
  return counter == THREADS * ROUNDS ? 0 : 1;
}
