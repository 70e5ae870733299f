/* Entering a lower privilege mode and coming back: run_lower saves the caller's
   callee-saved registers and stack, then enters `fn` in the mode given through mret
   (machine caller) or sret (supervisor caller); a trap handler of the caller's mode
   calls back_to_caller(slot) to return from run_lower as if `fn` had returned. */
/* The caller's callee-saved registers, return address and stack, at t0. */
  .macro save_ctx
  sd ra, 0(t0)
  sd sp, 8(t0)
  sd s0, 16(t0)
  sd s1, 24(t0)
  sd s2, 32(t0)
  sd s3, 40(t0)
  sd s4, 48(t0)
  sd s5, 56(t0)
  sd s6, 64(t0)
  sd s7, 72(t0)
  sd s8, 80(t0)
  sd s9, 88(t0)
  sd s10, 96(t0)
  sd s11, 104(t0)
  .endm
  .macro load_ctx
  ld ra, 0(t0)
  ld sp, 8(t0)
  ld s0, 16(t0)
  ld s1, 24(t0)
  ld s2, 32(t0)
  ld s3, 40(t0)
  ld s4, 48(t0)
  ld s5, 56(t0)
  ld s6, 64(t0)
  ld s7, 72(t0)
  ld s8, 80(t0)
  ld s9, 88(t0)
  ld s10, 96(t0)
  ld s11, 104(t0)
  .endm

  .text
  .globl run_lower_m, run_lower_s, back_to_caller
  .equ CTX_WORDS, 14

/* void run_lower_m(uint64_t mpp, void (*fn)(void), void *sp) */
run_lower_m:
  la t0, ctx_m
  save_ctx
  li t1, 3 << 11
  csrc mstatus, t1
  slli a0, a0, 11
  csrs mstatus, a0
  csrw mepc, a1
  mv sp, a2
  mret

/* void run_lower_s(void (*fn)(void), void *sp): enters fn in user mode. */
run_lower_s:
  la t0, ctx_s
  save_ctx
  li t1, 1 << 8
  csrc sstatus, t1
  csrw sepc, a0
  mv sp, a1
  sret

/* void back_to_caller(int s): s = 0 returns from run_lower_m, 1 from run_lower_s. */
back_to_caller:
  la t0, ctx_m
  beqz a0, 1f
  la t0, ctx_s
1:
  load_ctx
  ret

/* The supervisor vector table (stvec in vectored mode): exceptions and every
   interrupt but the software one go to s_trap; the software interrupt to s_trap_ssi. */
  .globl s_vectors
  .balign 256
s_vectors:
  j s_trap
  j s_trap_ssi
  .rept 14
  j s_trap
  .endr

  .data
  .balign 8
ctx_m: .zero CTX_WORDS * 8
ctx_s: .zero CTX_WORDS * 8
