/* Threads: the threads run interleaved. Two threads hand a token back and forth by
   busy-waiting on shared memory (no system call, no futex), which finishes only if
   each thread is preempted while the other spins; then both add to shared counters
   with an AMO (atomic add) and with an LR/SC loop (compare-and-swap) at the same
   time, which must lose no update; last, one thread adds to a word with LR/SC while
   the other adds to the same word with AMOs, so an SC after a preemption between its
   LR and SC must fail when the other thread stored there. */
#include <pthread.h>
#include <stdio.h>

#define ROUNDS 50
#define ADDS 20000

static volatile int turn;
static long amoCounter, casCounter, mixed;
static int seen[2];

static void *player(void *arg) {
  int me = (int)(long)arg;
  for (int r = 0; r < ROUNDS; r++) {
    while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) % 2 != me) { }
    seen[me]++;
    __atomic_store_n(&turn, turn + 1, __ATOMIC_RELEASE);
  }
  for (int i = 0; i < ADDS; i++) {
    __atomic_fetch_add(&amoCounter, 1, __ATOMIC_RELAXED);
    long old = __atomic_load_n(&casCounter, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&casCounter, &old, old + 1, 1, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) { }
  }
  for (int i = 0; i < ADDS; i++) {
    if (me == 0) {
      long old = __atomic_load_n(&mixed, __ATOMIC_RELAXED);
      while (!__atomic_compare_exchange_n(&mixed, &old, old + 3, 1, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) { }
    } else {
      __atomic_fetch_add(&mixed, 5, __ATOMIC_RELAXED);
    }
  }
  return NULL;
}

int main(void) {
  pthread_t t[2];
  for (long i = 0; i < 2; i++) pthread_create(&t[i], NULL, player, (void *)i);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  printf("token passed %d times (%d and %d turns)\n", turn, seen[0], seen[1]);
  printf("amo counter %ld, lr/sc counter %ld (expected %d)\n", amoCounter, casCounter, 2 * ADDS);
  printf("lr/sc and amo on one word: %ld (expected %d)\n", mixed, 8 * ADDS);
  return 0;
}
