/* Threads: a bounded producer-consumer queue with a mutex and two condition
   variables. Producers put numbered items, consumers take them until each gets an
   end marker; the totals (not the order) are printed, so the output does not depend
   on scheduling. */
#include <pthread.h>
#include <stdio.h>

#define SLOTS 8
#define PRODUCERS 3
#define CONSUMERS 2
#define ITEMS 3000

static long queue[SLOTS];
static int head, count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t notFull = PTHREAD_COND_INITIALIZER;
static pthread_cond_t notEmpty = PTHREAD_COND_INITIALIZER;

static void put(long v) {
  pthread_mutex_lock(&lock);
  while (count == SLOTS) pthread_cond_wait(&notFull, &lock);
  queue[(head + count) % SLOTS] = v;
  count++;
  pthread_cond_signal(&notEmpty);
  pthread_mutex_unlock(&lock);
}

static long take(void) {
  pthread_mutex_lock(&lock);
  while (count == 0) pthread_cond_wait(&notEmpty, &lock);
  long v = queue[head];
  head = (head + 1) % SLOTS;
  count--;
  pthread_cond_signal(&notFull);
  pthread_mutex_unlock(&lock);
  return v;
}

struct tally { long items, sum, xor; };
static struct tally tallies[CONSUMERS];

static void *producer(void *arg) {
  long id = (long)arg;
  for (long i = 1; i <= ITEMS; i++) put(id * 1000000 + i);
  return NULL;
}

static void *consumer(void *arg) {
  struct tally *t = arg;
  for (;;) {
    long v = take();
    if (v < 0) break;
    t->items++;
    t->sum += v;
    t->xor ^= v * 2654435761L;
  }
  return NULL;
}

int main(void) {
  pthread_t p[PRODUCERS], c[CONSUMERS];
  for (int i = 0; i < CONSUMERS; i++) pthread_create(&c[i], NULL, consumer, &tallies[i]);
  for (long i = 0; i < PRODUCERS; i++) pthread_create(&p[i], NULL, producer, (void *)(i + 1));
  for (int i = 0; i < PRODUCERS; i++) pthread_join(p[i], NULL);
  for (int i = 0; i < CONSUMERS; i++) put(-1);
  for (int i = 0; i < CONSUMERS; i++) pthread_join(c[i], NULL);
  long items = 0, sum = 0, x = 0;
  for (int i = 0; i < CONSUMERS; i++) {
    items += tallies[i].items;
    sum += tallies[i].sum;
    x ^= tallies[i].xor;
  }
  printf("items: %ld\nsum: %ld\nxor: %lx\n", items, sum, x);
  long want = 0;
  for (long id = 1; id <= PRODUCERS; id++) want += id * 1000000 * ITEMS + (long)ITEMS * (ITEMS + 1) / 2;
  printf("%s\n", items == PRODUCERS * ITEMS && sum == want ? "ok" : "MISMATCH");
  return 0;
}
