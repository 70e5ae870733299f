/* stdin-echo: reads standard input to its end, prints the line and byte counts and a
   checksum, then echoes the input upper-cased. */
#include <stdio.h>
#include <ctype.h>

int main(void) {
  static char buf[1 << 16];
  size_t n = 0; int c; unsigned lines = 0, sum = 0;
  while ((c = getchar()) != EOF && n < sizeof buf) { buf[n++] = (char)c; if (c == '\n') lines++; sum = sum * 33 + (unsigned char)c; }
  printf("%u lines, %zu bytes, checksum %08x\n", lines, n, sum);
  for (size_t i = 0; i < n; i++) putchar(toupper((unsigned char)buf[i]));
  return 0;
}
