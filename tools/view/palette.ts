// The visualizer's colours, as 0xRRGGBB: what each part of the scene is drawn in, and
// the green → amber → red scale of loads, metrics and link utilization. A module of
// its own so that the browser tests can check pixels against the same values.

export const COLOR_BACKGROUND = 0xffffff;
export const COLOR_SWITCH = 0x78909c;
export const COLOR_HOST_BORDER = 0xa7b1b8;
/** A link that carried nothing since the previous frame. */
export const COLOR_IDLE_LINK = 0x90a4ae;
/** A migration's travelling tile and its progress. */
export const COLOR_TRAVEL = 0x1565c0;
export const COLOR_PROGRESS_BG = 0xbbdefb;
export const COLOR_PATH = 0x64b5f6;
/** A migrating VM where it runs. */
export const COLOR_MIGRATING_VM = 0x90caf9;
/** A migration controller's decision (AdaMig's method switches). */
export const COLOR_MARKER = 0x8e24aa;

/** green → amber → red, for v in [0, 1] */
export function heat(v: number): number {
  if (v < 0.5) return lerp(0x2e7d32, 0xf9a825, v * 2);
  return lerp(0xf9a825, 0xc62828, (v - 0.5) * 2);
}

function lerp(a: number, b: number, t: number): number {
  const c = (s: number) => Math.round(((a >> s) & 255) + (((b >> s) & 255) - ((a >> s) & 255)) * t) << s;
  return c(16) | c(8) | c(0);
}
