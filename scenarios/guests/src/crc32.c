/* crc32: CRC-32 of a pseudo-random buffer, table-driven and bitwise, repeated argv[1]
   times (a compute benchmark: loads, shifts, xors). */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

static uint32_t table[256];
static uint32_t crc_table(const uint8_t *p, size_t n, uint32_t c) { c = ~c; while (n--) c = table[(c ^ *p++) & 0xff] ^ (c >> 8); return ~c; }
static uint32_t crc_bits(const uint8_t *p, size_t n, uint32_t c) {
  c = ~c;
  while (n--) { c ^= *p++; for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1)); }
  return ~c;
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 10;
  for (uint32_t i = 0; i < 256; i++) { uint32_t c = i; for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1; table[i] = c; }
  static uint8_t buf[1 << 16];
  uint32_t x = 12345;
  for (size_t i = 0; i < sizeof buf; i++) { x = x * 1103515245u + 12345u; buf[i] = (uint8_t)(x >> 16); }
  uint32_t a = 0, b = 0;
  for (int r = 0; r < reps; r++) { a = crc_table(buf, sizeof buf, a); b = crc_bits(buf, sizeof buf / 8, b); }
  printf("crc32 table %08x bitwise %08x\n", a, b);
  return 0;
}
