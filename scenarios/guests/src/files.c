/* files: the virtual file system — create, write, read back, seek, stat, list and
   unlink files under /tmp, make and remove a directory, and read an input file whose
   path is argv[1] (the harness mounts it read-only at /data/input.txt). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

int main(int argc, char **argv) {
  const char *input = argc > 1 ? argv[1] : "/data/input.txt";
  FILE *in = fopen(input, "r");
  if (!in) { printf("cannot open input: %s\n", strerror(errno)); return 1; }
  char line[256]; int lines = 0; unsigned sum = 0;
  while (fgets(line, sizeof line, in)) { lines++; for (char *p = line; *p; p++) sum = sum * 31 + (unsigned char)*p; }
  fclose(in);
  printf("input: %d lines, checksum %08x\n", lines, sum);
  int fd;

  mkdir("/tmp/work", 0755);
  FILE *f = fopen("/tmp/work/a.txt", "w");
  for (int i = 0; i < 1000; i++) fprintf(f, "line %d\n", i);
  fclose(f);
  struct stat st;
  stat("/tmp/work/a.txt", &st);
  printf("a.txt size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
  fd = open("/tmp/work/a.txt", O_RDWR);
  lseek(fd, 5000, SEEK_SET);
  char buf[32] = { 0 };
  ssize_t n = read(fd, buf, 20);
  printf("read %zd at 5000: %.*s|\n", n, (int)n, buf);
  lseek(fd, 0, SEEK_END);
  write(fd, "tail\n", 5);
  off_t end = lseek(fd, 0, SEEK_CUR);
  close(fd);
  printf("end %lld\n", (long long)end);
  f = fopen("/tmp/work/b.bin", "wb");
  for (int i = 0; i < 256; i++) fputc(i, f);
  fclose(f);
  f = fopen("/tmp/work/a.txt", "a"); fputs("appended\n", f); fclose(f);
  DIR *d = opendir("/tmp/work");
  int entries = 0;
  struct dirent *e;
  char names[8][64]; int named = 0;
  while ((e = readdir(d))) { entries++; if (e->d_name[0] != '.' && named < 8) strcpy(names[named++], e->d_name); }
  closedir(d);
  /* Directory order is the file system's business: sort before printing. */
  for (int i = 1; i < named; i++) for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) { char t[64]; strcpy(t, names[j]); strcpy(names[j], names[j - 1]); strcpy(names[j - 1], t); }
  printf("dir has %d entries:", entries);
  for (int i = 0; i < named; i++) printf(" %s", names[i]);
  printf("\n");
  printf("unlink b: %d, again: %d (%s)\n", unlink("/tmp/work/b.bin"), unlink("/tmp/work/b.bin"), strerror(errno));
  printf("rmdir non-empty: %d (%s)\n", rmdir("/tmp/work"), strerror(errno));
  unlink("/tmp/work/a.txt");
  printf("rmdir empty: %d\n", rmdir("/tmp/work"));
  printf("open missing: %d (%s)\n", open("/tmp/nope", O_RDONLY), strerror(errno));
  return 0;
}
