/* The few services the bare-metal programs share: the UART console of QEMU's virt
   board (polled), hex printing, CSR access, and power-off through the test finisher. */
#ifndef BAREMETAL_LIB_H
#define BAREMETAL_LIB_H
#include <stdint.h>

#define UART ((volatile uint8_t *)0x10000000)
#define FINISHER ((volatile uint32_t *)0x100000)
#define CLINT_MTIMECMP ((volatile uint64_t *)0x2004000)
#define CLINT_MTIME ((volatile uint64_t *)0x200bff8)

#define csr_read(csr) ({ uint64_t v_; __asm__ volatile("csrr %0, " #csr : "=r"(v_)); v_; })
#define csr_write(csr, v) __asm__ volatile("csrw " #csr ", %0" ::"r"((uint64_t)(v)))
#define csr_set(csr, v) __asm__ volatile("csrs " #csr ", %0" ::"r"((uint64_t)(v)))
#define csr_clear(csr, v) __asm__ volatile("csrc " #csr ", %0" ::"r"((uint64_t)(v)))

static inline void putc_(char c) {
  while ((UART[5] & 0x20) == 0) {
  }
  UART[0] = (uint8_t)c;
}

static inline void puts_(const char *s) {
  while (*s) putc_(*s++);
}

static inline void puthex(uint64_t v) {
  puts_("0x");
  for (int i = 60; i >= 0; i -= 4) putc_("0123456789abcdef"[(v >> i) & 15]);
}

static inline void kv(const char *k, uint64_t v) {
  puts_(k);
  puts_("=");
  puthex(v);
  puts_("\n");
}

/* The length of the instruction at pc (a handler steps over the one that trapped). */
static inline uint64_t insn_len(uint64_t pc) {
  return (*(volatile uint16_t *)pc & 3) == 3 ? 4 : 2;
}

/* a7 as the trap handler found it: the request of an ecall. */
static inline uint64_t a7_of(void) {
  uint64_t v;
  __asm__ volatile("mv %0, a7" : "=r"(v));
  return v;
}

/* A request to the more privileged mode: ecall with its number in a7. */
static inline void ecall_with(uint64_t n) {
  register uint64_t a7 __asm__("a7") = n;
  __asm__ volatile("ecall" : "+r"(a7)::"memory");
}

static inline void poweroff(unsigned code) {
  *FINISHER = code == 0 ? 0x5555 : (0x3333 | (code << 16));
  for (;;) {
  }
}
#endif
