/* Sv39 and Sv48 on QEMU's virt board, printing what it sees: page-table entries
   before and after the walker sets Accessed and Dirty, page faults with their stval,
   a read-only page, SUM and MXR, a gigapage, a misaligned superpage, sfence.vma with
   an address after a remapping, and the same mapping walked through four levels. */
#include "lib.h"

extern void run_lower_m(uint64_t mpp, void (*fn)(void), void *sp);
extern void back_to_caller(int s);
extern char s_vectors[];

#define PTE_V 1
#define PTE_R 2
#define PTE_W 4
#define PTE_X 8
#define PTE_U 16
#define PTE_G 32
#define PTE_A 64
#define PTE_D 128
#define EXIT 93

static uint8_t s_stack[4096] __attribute__((aligned(16)));
static uint64_t root[512] __attribute__((aligned(4096)));
static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l0[512] __attribute__((aligned(4096)));
static uint64_t root48[512] __attribute__((aligned(4096)));
static volatile uint64_t page_a[512] __attribute__((aligned(4096)));
static volatile uint64_t page_b[512] __attribute__((aligned(4096)));
static volatile uint64_t page_u[512] __attribute__((aligned(4096)));
static volatile uint64_t page_x[512] __attribute__((aligned(4096)));

#define VA_BASE 0x40000000ull
#define VA_A (VA_BASE + 0x1000)
#define VA_RO (VA_BASE + 0x2000)
#define VA_U (VA_BASE + 0x3000)
#define VA_X (VA_BASE + 0x4000)
#define VA_NONE (VA_BASE + 0x5000)
#define VA_MIS (0xc0000000ull + 0x200000)

static uint64_t pte(uint64_t pa, uint64_t bits) {
  return ((pa >> 12) << 10) | bits;
}

__attribute__((interrupt("machine"), aligned(4))) void m_trap(void) {
  uint64_t a7 = a7_of();
  uint64_t cause = csr_read(mcause);
  if (cause == 9 && a7 == EXIT) back_to_caller(0);
  kv("M unexpected trap, mcause", cause);
  kv("  mtval", csr_read(mtval));
  poweroff(2);
}

__attribute__((interrupt("supervisor"))) void s_trap(void) {
  uint64_t cause = csr_read(scause);
  uint64_t epc = csr_read(sepc);
  puts_("S trap: ");
  kv("scause", cause);
  kv("  stval", csr_read(stval));
  csr_write(sepc, epc + insn_len(epc));
}

__attribute__((interrupt("supervisor"))) void s_trap_ssi(void) {
  poweroff(4);
}

static uint64_t rd(uint64_t va) {
  return *(volatile uint64_t *)va;
}

static void wr(uint64_t va, uint64_t v) {
  *(volatile uint64_t *)va = v;
}

static void s_main(void) {
  page_a[0] = 0x1111;
  page_b[0] = 0x2222;
  page_u[0] = 0x3333;
  page_x[0] = 0x4444;
  /* Identity gigapages for RAM (code, data, stack) and the devices; A and D preset. */
  root[2] = pte(0x80000000ull, PTE_V | PTE_R | PTE_W | PTE_X | PTE_G | PTE_A | PTE_D);
  root[0] = pte(0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  /* The test pages at 1 GiB, through two more levels, without A and D. */
  root[1] = pte((uint64_t)l1, PTE_V);
  l1[0] = pte((uint64_t)l0, PTE_V);
  l0[1] = pte((uint64_t)page_a, PTE_V | PTE_R | PTE_W);
  l0[2] = pte((uint64_t)page_b, PTE_V | PTE_R);
  l0[3] = pte((uint64_t)page_u, PTE_V | PTE_R | PTE_W | PTE_U);
  l0[4] = pte((uint64_t)page_x, PTE_V | PTE_X);
  /* A megapage whose physical address is not 2 MiB aligned: misaligned superpage. */
  root[3] = pte((uint64_t)l1, PTE_V);
  l1[1] = pte(0x80001000ull, PTE_V | PTE_R | PTE_A);
  __asm__ volatile("sfence.vma" ::: "memory");
  csr_write(satp, (8ull << 60) | ((uint64_t)root >> 12));
  __asm__ volatile("sfence.vma" ::: "memory");
  kv("S: satp mode", csr_read(satp) >> 60);

  kv("S: read through the mapping", rd(VA_A));
  kv("S: PTE after a read", *(volatile uint64_t *)&l0[1]);
  wr(VA_A + 8, 0x55);
  kv("S: PTE after a write", *(volatile uint64_t *)&l0[1]);
  kv("S: written through the mapping", page_a[1]);
  kv("S: read-only page", rd(VA_RO));
  wr(VA_RO, 1); /* store page fault */
  kv("S: PTE of the read-only page", *(volatile uint64_t *)&l0[2]);
  rd(VA_NONE); /* load page fault */
  wr(VA_NONE + 0x10, 1); /* store page fault */
  rd(VA_U); /* a user page from S without SUM: load page fault */
  csr_set(sstatus, 1 << 18);
  kv("S: user page with SUM", rd(VA_U));
  csr_clear(sstatus, 1 << 18);
  rd(VA_X); /* execute-only: load page fault */
  csr_set(sstatus, 1 << 19);
  kv("S: execute-only page with MXR", rd(VA_X));
  csr_clear(sstatus, 1 << 19);
  rd(VA_MIS); /* misaligned superpage: load page fault */
  rd(0x8000000000ull); /* not canonical for Sv39: load page fault */
  /* Remap VA_A to page_b and flush just that address. */
  l0[1] = pte((uint64_t)page_b, PTE_V | PTE_R | PTE_W | PTE_A);
  __asm__ volatile("sfence.vma %0, zero" ::"r"(VA_A) : "memory");
  kv("S: after remapping and sfence.vma", rd(VA_A));
  /* Sv48: the same tables under a fourth level. */
  root48[0] = pte((uint64_t)root, PTE_V);
  csr_write(satp, (9ull << 60) | ((uint64_t)root48 >> 12));
  __asm__ volatile("sfence.vma" ::: "memory");
  kv("S: satp mode", csr_read(satp) >> 60);
  kv("S: Sv48 read", rd(VA_U - 0x2000));
  rd(0x800000000000ull); /* not canonical for Sv48 */
  rd(0x8000000000ull); /* canonical for Sv48, but unmapped */
  csr_write(satp, 0);
  __asm__ volatile("sfence.vma" ::: "memory");
  ecall_with(EXIT);
}

int main(void) {
  puts_("M: paging walk-through\n");
  csr_write(mtvec, (uint64_t)m_trap);
  csr_write(pmpaddr0, ~0ull >> 10);
  csr_write(pmpcfg0, 0x1f);
  csr_write(medeleg, (1 << 12) | (1 << 13) | (1 << 15));
  csr_write(stvec, (uint64_t)s_vectors | 1);
  run_lower_m(1, s_main, s_stack + sizeof s_stack);
  puts_("M: done\n");
  poweroff(0);
  return 0;
}
