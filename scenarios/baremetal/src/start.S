/* Entry of the bare-metal programs: a stack, then main() in machine mode. */
  .section .text.start, "ax"
  .globl _start
_start:
  la sp, _stack_top
  call main
1:
  j 1b
