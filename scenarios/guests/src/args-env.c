/* args-env: prints argc, argv[1..] and the environment variables the harness sets. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  printf("argc %d\n", argc);
  for (int i = 1; i < argc; i++) printf("argv[%d] = \"%s\"\n", i, argv[i]);
  const char *names[] = { "VIRTLAB_TEST", "VIRTLAB_MODE", "VIRTLAB_ABSENT" };
  for (int i = 0; i < 3; i++) { const char *v = getenv(names[i]); printf("%s=%s\n", names[i], v ? v : "(unset)"); }
  return 0;
}
