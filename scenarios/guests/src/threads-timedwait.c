/* Threads: futex timeouts on the guest's clock. A timed condition wait that nobody
   signals times out; a thread that sleeps in a timed wait while the main thread
   joins it (every thread blocked) wakes when its time comes; a timed wait that is
   signalled in time does not time out. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int ready;

static struct timespec in(long ms) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  t.tv_nsec += (ms % 1000) * 1000000L;
  t.tv_sec += ms / 1000 + t.tv_nsec / 1000000000L;
  t.tv_nsec %= 1000000000L;
  return t;
}

static void *sleeper(void *arg) {
  (void)arg;
  pthread_mutex_lock(&lock);
  struct timespec t = in(20);
  int e = 0;
  while (!ready && e == 0) e = pthread_cond_timedwait(&cond, &lock, &t);
  pthread_mutex_unlock(&lock);
  return (void *)(long)e;
}

static void *signaller(void *arg) {
  (void)arg;
  pthread_mutex_lock(&lock);
  ready = 1;
  pthread_cond_broadcast(&cond);
  pthread_mutex_unlock(&lock);
  return NULL;
}

int main(void) {
  pthread_mutex_lock(&lock);
  struct timespec t = in(30);
  int e = pthread_cond_timedwait(&cond, &lock, &t);
  pthread_mutex_unlock(&lock);
  printf("unsignalled wait: %s\n", e == ETIMEDOUT ? "timed out" : "woken");

  pthread_t s;
  void *r;
  pthread_create(&s, NULL, sleeper, NULL);
  pthread_join(s, &r);
  printf("sleeping thread, all blocked: %s\n", (long)r == ETIMEDOUT ? "timed out" : "woken");

  struct timespec after;
  clock_gettime(CLOCK_REALTIME, &after);
  printf("clock moved past the deadline: %s\n", after.tv_sec > t.tv_sec || (after.tv_sec == t.tv_sec && after.tv_nsec >= t.tv_nsec) ? "yes" : "no");

  pthread_t w, g;
  pthread_mutex_lock(&lock);
  pthread_create(&g, NULL, signaller, NULL);
  t = in(60000);
  e = 0;
  while (!ready && e == 0) e = pthread_cond_timedwait(&cond, &lock, &t);
  pthread_mutex_unlock(&lock);
  pthread_join(g, NULL);
  (void)w;
  printf("signalled wait: %s\n", e == 0 && ready ? "woken" : "timed out");
  return 0;
}
