/* Exercises the LZ4 library (lz4, lz4hc, lz4frame and xxhash, built from the lz4 npm
 * package's bundled sources by build.py): compresses a generated text-like input of N
 * bytes (and a FILE when given) at several levels and in the frame format, decodes
 * every result, checks it round-trips, and prints sizes and checksums.
 *
 *   lz4-tool N [FILE] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lz4.h"
#include "lz4frame.h"
#include "lz4hc.h"
#include "xxhash.h"

static unsigned long long state = 0x9e3779b97f4a7c15ULL;
static unsigned next(void) {
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (unsigned)(state >> 33);
}

/* Words, numbers and punctuation: compressible like prose, not trivially. */
static unsigned char *generate(size_t n) {
  static const char *words[] = {"the", "virtual", "machine", "translates", "guest", "code", "into", "host", "blocks", "and", "caches", "them", "for", "reuse", "when", "a", "page", "is", "written"};
  unsigned char *b = malloc(n);
  size_t i = 0;
  while (i < n) {
    char tmp[32];
    unsigned r = next();
    int len = r % 8 == 0 ? snprintf(tmp, sizeof tmp, "%u", next() % 100000) : snprintf(tmp, sizeof tmp, "%s", words[r % (sizeof words / sizeof words[0])]);
    tmp[len++] = r % 13 == 0 ? '\n' : r % 7 == 0 ? ',' : ' ';
    for (int k = 0; k < len && i < n; k++) b[i++] = (unsigned char)tmp[k];
  }
  return b;
}

static int failures;

static void check(const char *what, const unsigned char *a, const unsigned char *b, size_t n, long got) {
  if (got != (long)n || memcmp(a, b, n) != 0) {
    printf("  %s: ROUND TRIP FAILED (%ld)\n", what, got);
    failures++;
  }
}

static void block_modes(const unsigned char *src, size_t n) {
  int bound = LZ4_compressBound((int)n);
  char *dst = malloc(bound);
  unsigned char *back = malloc(n + 1);
  int c = LZ4_compress_default((const char *)src, dst, (int)n, bound);
  printf("  lz4 default: %d bytes, xxh32 %08x\n", c, XXH32(dst, c, 0));
  check("default", src, back, n, LZ4_decompress_safe(dst, (char *)back, c, (int)n));
  /* A partial decode stops at the requested size. */
  int part = LZ4_decompress_safe_partial(dst, (char *)back, c, (int)(n / 3), (int)n);
  printf("  partial decode: %d bytes, %s\n", part, part >= (int)(n / 3) && memcmp(back, src, n / 3) == 0 ? "ok" : "WRONG");
  for (int accel = 4; accel <= 16; accel *= 4) {
    c = LZ4_compress_fast((const char *)src, dst, (int)n, bound, accel);
    printf("  lz4 fast %d: %d bytes\n", accel, c);
    check("fast", src, back, n, LZ4_decompress_safe(dst, (char *)back, c, (int)n));
  }
  static const int levels[] = {3, 9, 12};
  for (int i = 0; i < 3; i++) {
    c = LZ4_compress_HC((const char *)src, dst, (int)n, bound, levels[i]);
    printf("  lz4hc %d: %d bytes, xxh32 %08x\n", levels[i], c, XXH32(dst, c, 0));
    check("hc", src, back, n, LZ4_decompress_safe(dst, (char *)back, c, (int)n));
  }
  /* A corrupt block must be refused, not decoded past the buffer. */
  c = LZ4_compress_default((const char *)src, dst, (int)n, bound);
  dst[c / 2] ^= 0x5a;
  int bad = LZ4_decompress_safe(dst, (char *)back, c - 7, (int)n);
  printf("  truncated corrupt block: %s\n", bad < 0 ? "refused" : "decoded");
  free(dst);
  free(back);
}

static void frame_mode(const unsigned char *src, size_t n) {
  LZ4F_preferences_t prefs;
  memset(&prefs, 0, sizeof prefs);
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockLinked;
  prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  prefs.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled;
  prefs.frameInfo.contentSize = n;
  prefs.compressionLevel = 6;
  size_t bound = LZ4F_compressFrameBound(n, &prefs);
  unsigned char *frame = malloc(bound);
  size_t fsize = LZ4F_compressFrame(frame, bound, src, n, &prefs);
  if (LZ4F_isError(fsize)) {
    printf("  frame: %s\n", LZ4F_getErrorName(fsize));
    failures++;
    return;
  }
  printf("  frame: %zu bytes, xxh64 %016llx\n", fsize, (unsigned long long)XXH64(frame, fsize, 0));
  /* Decoded in small pieces, as a stream arrives. */
  LZ4F_dctx *d;
  LZ4F_createDecompressionContext(&d, LZ4F_VERSION);
  unsigned char *back = malloc(n + 1);
  size_t in = 0, out = 0, ret = 1;
  int calls = 0;
  while (in < fsize && ret != 0) {
    size_t src_len = fsize - in < 1000 ? fsize - in : 1000;
    size_t dst_len = n + 1 - out < 4096 ? n + 1 - out : 4096;
    ret = LZ4F_decompress(d, back + out, &dst_len, frame + in, &src_len, NULL);
    if (LZ4F_isError(ret)) {
      printf("  frame decode: %s\n", LZ4F_getErrorName(ret));
      failures++;
      break;
    }
    in += src_len;
    out += dst_len;
    calls++;
  }
  printf("  frame decoded in %d calls\n", calls);
  check("frame", src, back, n, (long)out);
  /* A flipped byte in the payload fails its block checksum. */
  frame[fsize / 2] ^= 1;
  LZ4F_resetDecompressionContext(d);
  size_t dst_len = n + 1, src_len = fsize;
  ret = LZ4F_decompress(d, back, &dst_len, frame, &src_len, NULL);
  printf("  corrupt frame: %s\n", LZ4F_isError(ret) ? LZ4F_getErrorName(ret) : "accepted");
  LZ4F_freeDecompressionContext(d);
  free(frame);
  free(back);
}

static void run(const char *name, const unsigned char *src, size_t n) {
  printf("%s: %zu bytes, xxh32 %08x, xxh64 %016llx\n", name, n, XXH32(src, n, 0), (unsigned long long)XXH64(src, n, 0));
  block_modes(src, n);
  frame_mode(src, n);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s N [FILE]\n", argv[0]);
    return 2;
  }
  printf("lz4 %s\n", LZ4_versionString());
  size_t n = strtoul(argv[1], 0, 10);
  unsigned char *gen = generate(n);
  run("generated", gen, n);
  free(gen);
  if (argc > 2) {
    FILE *f = fopen(argv[2], "rb");
    if (!f) {
      perror(argv[2]);
      return 1;
    }
    size_t cap = 1 << 16, len = 0, got;
    unsigned char *buf = malloc(cap);
    while ((got = fread(buf + len, 1, cap - len, f)) > 0)
      if ((len += got) == cap) buf = realloc(buf, cap *= 2);
    fclose(f);
    /* By its base name: the path differs between the sandbox and the recording. */
    const char *base = strrchr(argv[2], '/');
    run(base ? base + 1 : argv[2], buf, len);
    free(buf);
  }
  printf("%s\n", failures ? "FAILED" : "all round trips ok");
  return failures != 0;
}
