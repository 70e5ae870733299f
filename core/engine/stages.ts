// Named stages for hook taps. tapable runs taps in ascending stage order (then in
// tap order), so a plugin that must see an event before the default handlers taps
// with STAGE_EARLY, and an observer that must see the final state uses
// STAGE_OBSERVE. Use these constants rather than bare numbers.

/** Runs before everything else: validation, vetoes. */
export const STAGE_FIRST = -200;
/** Runs before the default handlers: rewriting inputs. */
export const STAGE_EARLY = -100;
/** The default stage of a tap. */
export const STAGE_DEFAULT = 0;
/** Runs after the default handlers: reacting to their effect. */
export const STAGE_LATE = 100;
/** Runs last: metrics, tracing, visualization; must not change state. */
export const STAGE_OBSERVE = 200;
