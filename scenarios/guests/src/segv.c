/* segv: writes through an unmapped address; the guest dies with SIGSEGV (status 139). */
#include <stdio.h>
int main(void) {
  printf("about to fault\n");
  fflush(stdout);
  volatile int *p = (int *)0x10;
  *p = 1;
  return 0;
}
