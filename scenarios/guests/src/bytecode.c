/* bytecode: a small stack-machine interpreter running a prime-counting program up to
   argv[1] (indirect branches, a dispatch loop, data-dependent control flow). */
#include <stdio.h>
#include <stdlib.h>

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, MOD, LT, JZ, JMP, INC, HALT };
typedef struct { int op, arg; } insn;

int main(int argc, char **argv) {
  int limit = argc > 1 ? atoi(argv[1]) : 2000;
  /* vars: 0 n, 1 count, 2 d, 3 limit */
  insn prog[] = {
    { PUSH, 2 }, { STORE, 0 }, { PUSH, 0 }, { STORE, 1 },
    /* 4: outer */ { LOAD, 0 }, { LOAD, 3 }, { LT, 0 }, { JZ, 30 },
    { PUSH, 2 }, { STORE, 2 },
    /* 10: inner */ { LOAD, 2 }, { LOAD, 2 }, { MUL, 0 }, { LOAD, 0 }, { PUSH, 1 }, { ADD, 0 }, { LT, 0 }, { JZ, 25 },
    { LOAD, 0 }, { LOAD, 2 }, { MOD, 0 }, { JZ, 27 }, { INC, 2 }, { JMP, 10 }, { HALT, 0 },
    /* 25: prime */ { INC, 1 }, { JMP, 27 },
    /* 27: next */ { INC, 0 }, { JMP, 4 }, { HALT, 0 },
    /* 30 */ { HALT, 0 } };
  long vars[4] = { 0, 0, 0, limit };
  long stack[64]; int sp = 0, pc = 0; long steps = 0;
  for (;;) {
    insn in = prog[pc++]; steps++;
    switch (in.op) {
      case PUSH: stack[sp++] = in.arg; break;
      case LOAD: stack[sp++] = vars[in.arg]; break;
      case STORE: vars[in.arg] = stack[--sp]; break;
      case ADD: sp--; stack[sp - 1] += stack[sp]; break;
      case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
      case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
      case MOD: sp--; stack[sp - 1] %= stack[sp]; break;
      case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
      case JZ: if (!stack[--sp]) pc = in.arg; break;
      case JMP: pc = in.arg; break;
      case INC: vars[in.arg]++; break;
      case HALT: printf("primes below %d: %ld (%ld bytecode steps)\n", limit, vars[1], steps); return 0;
    }
  }
}
