// The contract between translated code and the runtime that runs it: what a unit's
// function returns, and the limits of host calls. Every translated unit is a
// WebAssembly function of type () → i32 that reads and writes the CPU state in the
// guest's memory (see STATE_* in ../riscv/memory.ts) and returns one of these codes
// with the guest pc in STATE_PC.

/** Nothing is translated (or chained) for the pc in STATE_PC: the dispatcher looks it up. */
export const EXIT_LOOKUP = 0;
/** The budget ran out before the block at STATE_PC. */
export const EXIT_BUDGET = 1;
/** The interpreter must execute the instruction at STATE_PC (system call, fault, …). */
export const EXIT_INTERP = 2;
/** A guest return to STATE_PC: the host caller checks it against its return address. */
export const EXIT_RET = 3;

/**
 * Codes from EXIT_TABLE up name entry (code − EXIT_TABLE) of the runtime's exit
 * table: which of the codes above it means, at which guest pc, and how many budgeted
 * instructions did not run. Faults and budget checks exit this way — a constant and a
 * return — because they are by far the most numerous exits of translated code.
 */
export const EXIT_TABLE = 16;

/** Deepest nesting of guest calls mapped to host calls; deeper calls become jumps. */
export const MAX_CALL_DEPTH = 200;

/** What the interpreter helper returns to translated code. */
export const HELPER_OK = 0;
/** The instruction faulted: exit so that the interpreter raises the fault. */
export const HELPER_FAULT = 1;
/** The instruction wrote translated code: exit after it, to the dispatcher. */
export const HELPER_CODE_CHANGED = 2;
