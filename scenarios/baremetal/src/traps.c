/* Privileged-architecture walk-through on QEMU's virt board, printing what it sees:
   traps in machine mode, delegation of exceptions and interrupts to supervisor mode,
   MRET and SRET into supervisor and user modes, illegal instructions with their bits
   in xtval, PMP denying a page to supervisor mode, vectored stvec, the supervisor
   software interrupt, the CLINT timer in machine mode (WFI) and forwarded to
   supervisor mode as STIP, and FS tracking (FP illegal when off, Dirty after a write). */
#include "lib.h"

extern void run_lower_m(uint64_t mpp, void (*fn)(void), void *sp);
extern void run_lower_s(void (*fn)(void), void *sp);
extern void back_to_caller(int s);
extern char s_vectors[];

static uint8_t s_stack[4096] __attribute__((aligned(16)));
static uint8_t u_stack[4096] __attribute__((aligned(16)));
static volatile uint64_t denied_page[512] __attribute__((aligned(4096)));
static volatile int s_timer_seen, m_timer_seen, ssi_seen;

#define EXIT 93
#define SET_TIMER 1
#define CLEAR_STIP 2

/* The machine-mode trap handler (gcc saves and restores the registers it uses). */
__attribute__((interrupt("machine"), aligned(4))) void m_trap(void) {
  uint64_t a7 = a7_of();
  uint64_t cause = csr_read(mcause);
  uint64_t epc = csr_read(mepc);
  if ((int64_t)cause < 0) {
    if ((cause & 0xff) == 7) {
      /* The machine timer: once for machine mode itself, then forwarded to S as STIP. */
      csr_clear(mie, 1 << 7);
      *CLINT_MTIMECMP = ~0ull;
      if (((csr_read(mstatus) >> 11) & 3) == 3) {
        m_timer_seen = 1;
        kv("M timer interrupt, mcause", cause);
      } else {
        csr_set(mip, 1 << 5);
      }
      return;
    }
    kv("M unexpected interrupt", cause);
    poweroff(3);
  }
  uint64_t from = (csr_read(mstatus) >> 11) & 3;
  if (cause == 9 && a7 == EXIT) {
    puts_("M: supervisor code asks to return\n");
    back_to_caller(0);
  }
  if (cause == 9 && a7 == SET_TIMER) {
    *CLINT_MTIMECMP = *CLINT_MTIME + 500;
    csr_set(mie, 1 << 7);
    csr_write(mepc, epc + 4);
    return;
  }
  if (cause == 9 && a7 == CLEAR_STIP) {
    csr_clear(mip, 1 << 5);
    csr_write(mepc, epc + 4);
    return;
  }
  puts_("M trap: ");
  kv("mcause", cause);
  kv("  from mode", from);
  kv("  mtval", csr_read(mtval));
  csr_write(mepc, epc + insn_len(epc));
}

/* The supervisor-mode trap handler (exceptions and the timer), through s_vectors. */
__attribute__((interrupt("supervisor"))) void s_trap(void) {
  uint64_t a7 = a7_of();
  uint64_t cause = csr_read(scause);
  uint64_t epc = csr_read(sepc);
  if ((int64_t)cause < 0) {
    kv("S interrupt, scause", cause);
    if ((cause & 0xff) == 5) {
      s_timer_seen = 1;
      __asm__ volatile("li a7, 2\n ecall" ::: "a7", "memory");
    }
    return;
  }
  if (cause == 8 && a7 == EXIT) {
    puts_("S: user code asks to return\n");
    back_to_caller(1);
  }
  puts_("S trap: ");
  kv("scause", cause);
  kv("  from SPP", (csr_read(sstatus) >> 8) & 1);
  kv("  stval", csr_read(stval));
  csr_write(sepc, epc + insn_len(epc));
}

__attribute__((interrupt("supervisor"))) void s_trap_ssi(void) {
  ssi_seen = 1;
  kv("S software interrupt (vectored), scause", csr_read(scause));
  csr_clear(sip, 2);
}

static void u_main(void) {
  puts_("U: hello from user mode\n");
  ecall_with(0);
  __asm__ volatile(".word 0x0000200b"); /* custom-0: illegal */
  uint64_t v;
  __asm__ volatile("csrr %0, sstatus" : "=r"(v)); /* supervisor CSR from user mode: illegal */
  (void)v;
  ecall_with(EXIT);
}

static void s_main(void) {
  puts_("S: hello from supervisor mode\n");
  kv("S: sstatus.SPP after mret", (csr_read(sstatus) >> 8) & 1);
  ecall_with(0); /* not delegated: machine mode handles it */
  __asm__ volatile(".word 0x0000100b"); /* delegated illegal instruction */
  uint64_t v;
  __asm__ volatile("csrr %0, mstatus" : "=r"(v)); /* a machine CSR from S: illegal */
  (void)v;
  /* PMP: machine mode denied this page to lower modes; the access fault goes to M. */
  v = denied_page[3];
  denied_page[5] = 1;
  /* The supervisor software interrupt, delegated and taken through the vector table. */
  csr_set(sie, 1 << 1);
  csr_set(sstatus, 1 << 1);
  csr_set(sip, 1 << 1);
  kv("S: software interrupt seen", ssi_seen);
  /* The timer: machine mode arms the CLINT and forwards its interrupt as STIP. */
  csr_set(sie, 1 << 5);
  ecall_with(SET_TIMER);
  while (!s_timer_seen) __asm__ volatile("wfi");
  kv("S: timer seen", s_timer_seen);
  csr_clear(sstatus, 1 << 1);
  /* FS: off makes FP illegal; a write turns Initial into Dirty (and sets SD). */
  csr_clear(sstatus, 3 << 13);
  __asm__ volatile(".word 0xf2000053"); /* fmv.d.x ft0, zero */
  csr_set(sstatus, 1 << 13);
  kv("S: sstatus.FS before an FP write", (csr_read(sstatus) >> 13) & 3);
  __asm__ volatile(".word 0xf2000053"); /* fmv.d.x ft0, zero */
  kv("S: sstatus.FS after an FP write", (csr_read(sstatus) >> 13) & 3);
  kv("S: sstatus.SD", csr_read(sstatus) >> 63);
  /* User mode: ecalls and illegal instructions are delegated to S. */
  run_lower_s(u_main, u_stack + sizeof u_stack);
  puts_("S: back from user mode\n");
  kv("S: sstatus.SPP after the user trap", (csr_read(sstatus) >> 8) & 1);
  ecall_with(EXIT);
}

int main(void) {
  puts_("M: hello from machine mode\n");
  kv("M: misa MXL and IMAFDCSU", csr_read(misa) & 0xc000000000141129ull);
  kv("M: mhartid", csr_read(mhartid));
  csr_write(mtvec, (uint64_t)m_trap);
  __asm__ volatile("ecall");
  __asm__ volatile(".word 0x0000000b");
  /* PMP: a 4 KiB NAPOT region without permissions over denied_page, then all memory. */
  csr_write(pmpaddr0, ((uint64_t)denied_page >> 2) | 0x1ff);
  csr_write(pmpaddr1, ~0ull >> 10);
  csr_write(pmpcfg0, (0x1full << 8) | 0x18);
  kv("M: pmpcfg0", csr_read(pmpcfg0));
  csr_write(medeleg, (1 << 2) | (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15));
  csr_write(mideleg, (1 << 1) | (1 << 5) | (1 << 9));
  kv("M: medeleg", csr_read(medeleg));
  kv("M: mideleg (S interrupts)", csr_read(mideleg) & 0x222);
  csr_write(stvec, (uint64_t)s_vectors | 1);
  csr_write(mcounteren, 7);
  csr_set(mstatus, 1 << 13); /* FS Initial, so that S may use FP */
  run_lower_m(1, s_main, s_stack + sizeof s_stack);
  puts_("M: back from supervisor mode\n");
  kv("M: mstatus.MPP after the trap", (csr_read(mstatus) >> 11) & 3);
  /* The timer interrupt in machine mode, waited for with WFI. */
  *CLINT_MTIMECMP = *CLINT_MTIME + 1000;
  csr_write(mie, 1 << 7);
  csr_set(mstatus, 1 << 3);
  while (!m_timer_seen) __asm__ volatile("wfi");
  csr_clear(mstatus, 1 << 3);
  puts_("M: done\n");
  poweroff(0);
  return 0;
}
