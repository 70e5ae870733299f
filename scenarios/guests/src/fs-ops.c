/* fs-ops: the file-system calls a program makes around its working directory —
   chdir/fchdir/getcwd, relative paths, mkdirat, renameat2 (plain, NOREPLACE,
   EXCHANGE), getdents64 (names sorted, as directory order is the file system's),
   fstat/newfstatat, faccessat, readlinkat, ftruncate, fsync, umask, dup/dup2/dup3, pipe2, fcntl,
   unlinkat, and the errors each gives. It works in /tmp/vlfsops, which it removes. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#define CHECK(expr) do { long r_ = (long)(expr); printf("%-44s -> %ld%s%s\n", #expr, r_, r_ < 0 ? " " : "", r_ < 0 ? strerrorname_np(errno) : ""); } while (0)

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) { printf("opendir %s: %s\n", dir, strerrorname_np(errno)); return; }
  char *names[64]; int n = 0; struct dirent *e;
  while ((e = readdir(d)) && n < 64) names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof names[0], cmp);
  printf("%s:", dir);
  for (int i = 0; i < n; i++) { printf(" %s", names[i]); free(names[i]); }
  printf("\n");
}

static void cwd(void) {
  char buf[256];
  printf("cwd %s\n", getcwd(buf, sizeof buf) ? buf : strerrorname_np(errno));
}

static void cleanup(void) {
  unlink("/tmp/vlfsops/sub/inner.txt"); unlink("/tmp/vlfsops/sub/b.txt"); unlink("/tmp/vlfsops/a.txt"); unlink("/tmp/vlfsops/b.txt");
  unlink("/tmp/vlfsops/c.txt"); unlink("/tmp/vlfsops/moved"); rmdir("/tmp/vlfsops/sub"); rmdir("/tmp/vlfsops/other"); rmdir("/tmp/vlfsops/moved"); rmdir("/tmp/vlfsops");
}

int main(void) {
  cleanup();
  cwd();
  CHECK(umask(027));
  CHECK(umask(022));
  CHECK(chdir("/nonexistent"));
  CHECK(mkdir("/tmp/vlfsops", 0750));
  CHECK(mkdir("/tmp/vlfsops", 0750));
  CHECK(chdir("/tmp/vlfsops"));
  cwd();
  CHECK(mkdir("sub", 0777));
  CHECK(chdir("sub/../sub/."));
  cwd();
  CHECK(chdir(".."));
  cwd();
  int fd = open("a.txt", O_CREAT | O_WRONLY | O_TRUNC, 0666);
  printf("open a.txt %s\n", fd >= 0 ? "ok" : strerrorname_np(errno));
  CHECK(write(fd, "hello, world\n", 13));
  CHECK(fsync(fd));
  CHECK(fdatasync(fd));
  CHECK(ftruncate(fd, 5));
  CHECK(ftruncate(fd, 9));
  CHECK(ftruncate(fd, -1));
  struct stat st;
  CHECK(fstat(fd, &st));
  printf("size %lld mode %o regular %d\n", (long long)st.st_size, st.st_mode & 07777, S_ISREG(st.st_mode));
  CHECK(fcntl(fd, F_GETFL) & O_ACCMODE);
  CHECK(fcntl(fd, F_GETFD));
  CHECK(fcntl(fd, F_SETFD, FD_CLOEXEC));
  CHECK(fcntl(fd, F_GETFD));
  CHECK(fcntl(fd, F_SETFL, O_APPEND));
  CHECK(fcntl(fd, F_GETFL) & O_APPEND);
  CHECK(write(fd, "!", 1));
  close(fd);
  fd = open("a.txt", O_RDONLY);
  char buf[64] = {0};
  long n = read(fd, buf, sizeof buf);
  printf("read %ld:", n);
  for (int i = 0; i < n; i++) printf(" %02x", (unsigned char)buf[i]);
  printf("\n");
  CHECK(ftruncate(fd, 0));
  CHECK(write(fd, "x", 1));
  int d2 = dup(fd);
  printf("dup gives a new descriptor: %d\n", d2 > fd);
  CHECK(dup2(fd, 20));
  CHECK(dup3(fd, 21, O_CLOEXEC));
  CHECK(fcntl(21, F_GETFD));
  CHECK(dup3(fd, fd, 0));
  CHECK(dup3(fd, 22, 12345));
  CHECK(dup2(fd, fd));
  CHECK(fcntl(fd, F_DUPFD, 30));
  CHECK(close(30));
  CHECK(close(20));
  CHECK(close(20));
  close(21); close(d2); close(fd);

  CHECK(stat("a.txt", &st));
  CHECK(access("a.txt", R_OK | W_OK));
  CHECK(access("a.txt", X_OK));
  CHECK(access("missing", F_OK));
  CHECK(access("sub", X_OK));
  CHECK(faccessat(AT_FDCWD, "sub", R_OK, 0));
  CHECK(faccessat(AT_FDCWD, "a.txt", W_OK, AT_EACCESS));
  CHECK(faccessat(AT_FDCWD, "a.txt", X_OK, AT_EACCESS));
  CHECK(syscall(439 /* faccessat2 */, AT_FDCWD, "a.txt", R_OK, 0x8));
  CHECK(stat("sub", &st));
  printf("sub mode %o dir %d\n", st.st_mode & 07777, S_ISDIR(st.st_mode));
  CHECK(fstatat(AT_FDCWD, "missing", &st, 0));
  char link[64];
  CHECK(readlink("a.txt", link, sizeof link));
  CHECK(readlink("missing", link, sizeof link));

  CHECK(rename("a.txt", "b.txt"));
  CHECK(rename("a.txt", "b.txt"));
  close(open("c.txt", O_CREAT | O_WRONLY, 0600));
  CHECK(stat("c.txt", &st));
  printf("c.txt mode %o\n", st.st_mode & 07777);
  CHECK(syscall(SYS_renameat2, AT_FDCWD, "b.txt", AT_FDCWD, "c.txt", 1 /* RENAME_NOREPLACE */));
  CHECK(syscall(SYS_renameat2, AT_FDCWD, "b.txt", AT_FDCWD, "c.txt", 2 /* RENAME_EXCHANGE */));
  CHECK(stat("c.txt", &st));
  printf("c.txt size %lld after the exchange\n", (long long)st.st_size);
  CHECK(rename("b.txt", "sub/b.txt"));
  CHECK(mkdir("other", 0700));
  CHECK(rename("other", "sub"));
  CHECK(rename("sub", "sub/deeper"));
  CHECK(rename("other", "moved"));
  list(".");
  list("sub");

  int dfd = open("sub", O_RDONLY | O_DIRECTORY);
  CHECK(fchdir(dfd));
  cwd();
  CHECK(openat(dfd, "inner.txt", O_CREAT | O_WRONLY, 0644) >= 0);
  CHECK(mkdirat(dfd, "inner.txt", 0755));
  CHECK(unlinkat(dfd, "inner.txt", AT_REMOVEDIR));
  CHECK(unlinkat(dfd, "inner.txt", 0));
  CHECK(open("/tmp/vlfsops/a.txt", O_RDONLY | O_DIRECTORY));
  CHECK(open("b.txt", O_RDONLY | O_DIRECTORY));
  close(dfd);
  CHECK(chdir("/tmp/vlfsops"));
  CHECK(rmdir("sub"));
  CHECK(unlink("sub"));
  CHECK(chdir("c.txt"));

  int p[2];
  CHECK(pipe2(p, O_CLOEXEC));
  CHECK(fcntl(p[0], F_GETFD));
  CHECK(fcntl(p[1], F_GETFL) & O_ACCMODE);
  CHECK(write(p[1], "through the pipe", 16));
  CHECK(fstat(p[0], &st));
  printf("pipe is a fifo: %d\n", S_ISFIFO(st.st_mode));
  memset(buf, 0, sizeof buf);
  CHECK(read(p[0], buf, 7));
  CHECK(read(p[0], buf + 7, 32));
  printf("pipe gave \"%s\"\n", buf);
  CHECK(read(p[1], buf, 1));
  CHECK(write(p[0], "x", 1));
  CHECK(close(p[1]));
  CHECK(read(p[0], buf, 1));
  CHECK(close(p[0]));
  CHECK(pipe2(p, 0x1));

  struct sysinfo si;
  CHECK(sysinfo(&si));
  printf("sysinfo: mem_unit %u, some RAM %d, procs %d\n", si.mem_unit, si.totalram > 0, si.procs > 0);

  cleanup();
  CHECK(chdir("/"));
  cwd();
  CHECK(access("/tmp/vlfsops", F_OK));
  return 0;
}
