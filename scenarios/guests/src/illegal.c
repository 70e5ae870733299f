/* illegal: executes an illegal instruction; the guest dies with SIGILL (status 132). */
#include <stdio.h>
int main(void) {
  printf("about to execute an illegal instruction\n");
  fflush(stdout);
  __asm__ volatile(".word 0x00000000");
  return 0;
}
