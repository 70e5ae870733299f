/* A small SQL runner over the SQLite amalgamation (built from the better-sqlite3 npm
 * package by build.py): runs the statements of a script file against a database and
 * prints every result row. Lines of the script that start with '.' are commands of
 * this driver: ".reopen" closes and reopens the database, ".files" lists the
 * database's directory (names and sizes, sorted, so that the listing does not depend
 * on the host file system's order), ".check" runs PRAGMA integrity_check.
 *
 *   sqlite-shell SCRIPT [DATABASE [N]]
 *
 * DATABASE defaults to ":memory:"; N is what the SQL function param() returns (the
 * size of the workload in the benchmark's scripts). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "sqlite3.h"

static sqlite3 *db;
static const char *db_path;
static long long param_n = 100;

static void param_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  sqlite3_result_int64(ctx, param_n);
}

static void open_db(void) {
  int rc = sqlite3_open(db_path, &db);
  if (rc != SQLITE_OK) {
    printf("open: %s\n", sqlite3_errmsg(db));
    exit(1);
  }
  sqlite3_create_function(db, "param", 0, SQLITE_UTF8 | SQLITE_DETERMINISTIC, 0, param_fn, 0, 0);
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Names and sizes of the files beside the database, in name order. */
static void list_files(void) {
  char dir[512];
  const char *slash = strrchr(db_path, '/');
  if (!slash) {
    printf("(no directory)\n");
    return;
  }
  snprintf(dir, sizeof dir, "%.*s", (int)(slash - db_path), db_path);
  const char *base = slash + 1;
  DIR *d = opendir(dir);
  if (!d) {
    printf("opendir failed\n");
    return;
  }
  char *names[64];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 64)
    if (strncmp(e->d_name, base, strlen(base)) == 0) names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof names[0], cmp_names);
  for (int i = 0; i < n; i++) {
    char p[1024];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    if (stat(p, &st) == 0) printf("file %s %lld\n", names[i], (long long)st.st_size);
    free(names[i]);
  }
}

static void print_value(sqlite3_stmt *st, int i) {
  switch (sqlite3_column_type(st, i)) {
  case SQLITE_NULL:
    fputs("NULL", stdout);
    break;
  case SQLITE_INTEGER:
    printf("%lld", sqlite3_column_int64(st, i));
    break;
  case SQLITE_FLOAT:
    printf("%.17g", sqlite3_column_double(st, i));
    break;
  case SQLITE_BLOB: {
    const unsigned char *b = sqlite3_column_blob(st, i);
    int n = sqlite3_column_bytes(st, i);
    fputs("x'", stdout);
    for (int k = 0; k < n; k++) printf("%02x", b[k]);
    fputs("'", stdout);
    break;
  }
  default:
    fputs((const char *)sqlite3_column_text(st, i), stdout);
  }
}

/* Runs every statement of `sql`; a failing statement prints its error and the run goes on. */
static void run_sql(const char *sql) {
  while (*sql) {
    sqlite3_stmt *st = 0;
    const char *tail = 0;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, &tail);
    if (rc != SQLITE_OK) {
      printf("error: %s\n", sqlite3_errmsg(db));
      return;
    }
    if (!st) break;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      int cols = sqlite3_column_count(st);
      for (int i = 0; i < cols; i++) {
        if (i) fputc('|', stdout);
        print_value(st, i);
      }
      fputc('\n', stdout);
    }
    if (rc != SQLITE_DONE) printf("error: %s\n", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sql = tail;
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s SCRIPT [DATABASE [N]]\n", argv[0]);
    return 2;
  }
  db_path = argc > 2 ? argv[2] : ":memory:";
  if (argc > 3) param_n = atoll(argv[3]);
  FILE *f = fopen(argv[1], "r");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  open_db();
  printf("sqlite %s\n", sqlite3_libversion());
  /* Statements accumulate until a line that starts with '.', or the end. */
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  char line[4096];
  buf[0] = 0;
  for (;;) {
    char *got = fgets(line, sizeof line, f);
    if (!got || line[0] == '.') {
      run_sql(buf);
      len = 0;
      buf[0] = 0;
      if (!got) break;
      if (strncmp(line, ".reopen", 7) == 0) {
        if (sqlite3_close(db) != SQLITE_OK) printf("close: %s\n", sqlite3_errmsg(db));
        open_db();
      } else if (strncmp(line, ".files", 6) == 0)
        list_files();
      else if (strncmp(line, ".check", 6) == 0)
        run_sql("PRAGMA integrity_check;");
      else if (strncmp(line, ".echo ", 6) == 0)
        fputs(line + 6, stdout);
      continue;
    }
    size_t n = strlen(line);
    if (len + n + 1 > cap) buf = realloc(buf, cap = 2 * (len + n + 1));
    memcpy(buf + len, line, n + 1);
    len += n;
  }
  fclose(f);
  if (sqlite3_close(db) != SQLITE_OK) printf("close: %s\n", sqlite3_errmsg(db));
  free(buf);
  return 0;
}
